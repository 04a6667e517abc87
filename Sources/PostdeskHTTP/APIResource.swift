import Foundation
import MailCommands
import MailParser
import TicketPipeline
import TicketStoreSQLite

/// The JSON bodies of API v1, as `api/openapi.yaml` describes them (encoded in snake_case).
enum APIResource {
    struct Address: Encodable, Sendable {
        var name: String?
        var address: String

        init(_ address: MailAddress) {
            name = address.name
            self.address = address.address
        }

        init?(name: String?, address: String?) {
            guard let address else { return nil }
            self.name = name
            self.address = address
        }
    }

    struct TicketSummary: Encodable, Sendable {
        var number: Int
        var queue: String
        var status: String
        var subject: String
        var requester: Address?
        var priority: String?
        var category: String?
        var type: String?
        var assignee: String?
        var articleCount: Int
        var createdAt: Date
        var updatedAt: Date
        var url: String

        init(_ listing: TicketListing) {
            number = listing.number
            queue = listing.queue
            status = listing.status
            subject = listing.subject
            requester = Address(name: listing.requesterName, address: listing.requesterAddress)
            priority = listing.priority
            category = listing.category
            type = listing.type
            assignee = listing.assignee
            articleCount = listing.articleCount
            createdAt = listing.createdAt
            updatedAt = listing.updatedAt
            url = "/api/v1/tickets/\(listing.number)"
        }

        // Nil optionals are written as `null`: the spec lists every field as required.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(number, forKey: .number)
            try container.encode(queue, forKey: .queue)
            try container.encode(status, forKey: .status)
            try container.encode(subject, forKey: .subject)
            try container.encode(requester, forKey: .requester)
            try container.encode(priority, forKey: .priority)
            try container.encode(category, forKey: .category)
            try container.encode(type, forKey: .type)
            try container.encode(assignee, forKey: .assignee)
            try container.encode(articleCount, forKey: .articleCount)
            try container.encode(createdAt, forKey: .createdAt)
            try container.encode(updatedAt, forKey: .updatedAt)
            try container.encode(url, forKey: .url)
        }

        enum CodingKeys: String, CodingKey {
            case number, queue, status, subject, requester, priority, category, type, assignee, articleCount,
                createdAt, updatedAt, url
        }
    }

    struct TicketList: Encodable, Sendable {
        var tickets: [TicketSummary]
        var nextCursor: String?

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(tickets, forKey: .tickets)
            try container.encode(nextCursor, forKey: .nextCursor)
        }

        enum CodingKeys: String, CodingKey { case tickets, nextCursor }
    }

    struct Attachment: Encodable, Sendable {
        var filename: String?
        var contentType: String
        var size: Int
        var sha256: String
        var contentId: String?
        var disposition: String?
        var url: String

        init(_ info: AttachmentInfo, articleURL: String) {
            filename = info.filename
            contentType = info.contentType
            size = info.size
            sha256 = info.sha256
            contentId = info.contentID
            disposition = info.disposition
            url = "\(articleURL)/attachments/\(info.sha256)"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(filename, forKey: .filename)
            try container.encode(contentType, forKey: .contentType)
            try container.encode(size, forKey: .size)
            try container.encode(sha256, forKey: .sha256)
            try container.encode(contentId, forKey: .contentId)
            try container.encode(disposition, forKey: .disposition)
            try container.encode(url, forKey: .url)
        }

        enum CodingKeys: String, CodingKey { case filename, contentType, size, sha256, contentId, disposition, url }
    }

    struct Article: Encodable, Sendable {
        var id: Int64
        var direction: String
        var messageId: String?
        var inReplyTo: [String]
        var references: [String]
        var subject: String
        var from: Address?
        var to: [Address]
        var cc: [Address]
        var replyTo: [Address]
        var text: String
        var strippedText: String
        var html: String?
        var source: String
        var receivedAt: Date
        var rawSha256: String
        var rawSize: Int
        var rawUrl: String?
        var attachments: [Attachment]

        init(_ article: ArticleDetail, ticket: Int) {
            let url = "/api/v1/tickets/\(ticket)/articles/\(article.id)"
            id = article.id
            direction = article.direction.rawValue
            messageId = article.messageID
            inReplyTo = article.inReplyTo
            references = article.references
            subject = article.subject
            from = article.from.map(Address.init)
            to = article.to.map(Address.init)
            cc = article.cc.map(Address.init)
            replyTo = article.replyTo.map(Address.init)
            text = article.text
            strippedText = article.strippedText
            html = article.html
            source = article.source.rawValue
            receivedAt = article.receivedAt
            rawSha256 = article.rawSHA256
            rawSize = article.rawSize
            rawUrl = article.rawSHA256.isEmpty ? nil : "\(url)/raw"
            attachments = article.attachments.map { Attachment($0, articleURL: url) }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(direction, forKey: .direction)
            try container.encode(messageId, forKey: .messageId)
            try container.encode(inReplyTo, forKey: .inReplyTo)
            try container.encode(references, forKey: .references)
            try container.encode(subject, forKey: .subject)
            try container.encode(from, forKey: .from)
            try container.encode(to, forKey: .to)
            try container.encode(cc, forKey: .cc)
            try container.encode(replyTo, forKey: .replyTo)
            try container.encode(text, forKey: .text)
            try container.encode(strippedText, forKey: .strippedText)
            try container.encode(html, forKey: .html)
            try container.encode(source, forKey: .source)
            try container.encode(receivedAt, forKey: .receivedAt)
            try container.encode(rawSha256, forKey: .rawSha256)
            try container.encode(rawSize, forKey: .rawSize)
            try container.encode(rawUrl, forKey: .rawUrl)
            try container.encode(attachments, forKey: .attachments)
        }

        enum CodingKeys: String, CodingKey {
            case id, direction, messageId, inReplyTo, references, subject, from, to, cc, replyTo, text, strippedText,
                html, source, receivedAt, rawSha256, rawSize, rawUrl, attachments
        }
    }

    struct Activity: Encodable, Sendable {
        var kind: String
        var text: String
        var createdAt: Date

        init(_ activity: ActivityDetail) {
            kind = activity.kind
            text = activity.text
            createdAt = activity.createdAt
        }
    }

    struct Ticket: Encodable, Sendable {
        var number: Int
        var queue: String
        var status: String
        var subject: String
        var requester: Address?
        var priority: String?
        var category: String?
        var type: String?
        var assignee: String?
        var account: String?
        var fields: [TicketField]
        var source: String
        var createdAt: Date
        var updatedAt: Date
        var articles: [Article]
        var activities: [Activity]

        init(_ detail: TicketDetail) {
            number = detail.number
            queue = detail.queue
            status = detail.status
            subject = detail.subject
            requester = detail.requester.map(Address.init)
            priority = detail.defaults.priority
            category = detail.defaults.category
            type = detail.defaults.type
            assignee = detail.assignee
            account = detail.account
            fields = detail.fields
            source = detail.source.rawValue
            createdAt = detail.createdAt
            updatedAt = detail.updatedAt
            articles = detail.articles.map { Article($0, ticket: detail.number) }
            activities = detail.activities.map(Activity.init)
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(number, forKey: .number)
            try container.encode(queue, forKey: .queue)
            try container.encode(status, forKey: .status)
            try container.encode(subject, forKey: .subject)
            try container.encode(requester, forKey: .requester)
            try container.encode(priority, forKey: .priority)
            try container.encode(category, forKey: .category)
            try container.encode(type, forKey: .type)
            try container.encode(assignee, forKey: .assignee)
            try container.encode(account, forKey: .account)
            try container.encode(fields, forKey: .fields)
            try container.encode(source, forKey: .source)
            try container.encode(createdAt, forKey: .createdAt)
            try container.encode(updatedAt, forKey: .updatedAt)
            try container.encode(articles, forKey: .articles)
            try container.encode(activities, forKey: .activities)
        }

        enum CodingKeys: String, CodingKey {
            case number, queue, status, subject, requester, priority, category, type, assignee, account, fields,
                source, createdAt, updatedAt, articles, activities
        }
    }
}
