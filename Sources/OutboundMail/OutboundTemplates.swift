import Foundation
import Mustache

/// The texts of mail we write ourselves, rendered with Mustache (`{{subject}}`, `{{ticket_number}}`, `{{tag}}`,
/// `{{queue}}`, `{{requester_name}}`, `{{requester_address}}`). Text templates never HTML-escape; an HTML
/// template escapes as HTML does.
public struct OutboundTemplates: Sendable {
    /// The repository's `templates/acknowledgement.txt.mustache`, built in so the binary needs no files.
    public static let defaultAcknowledgementText = """
        Hello{{#requester_name}} {{requester_name}}{{/requester_name}},

        we have received your message "{{subject}}" and opened ticket [{{tag}} #{{ticket_number}}] for it.
        Replying to this mail keeps the ticket number in the subject, so your answer reaches the same ticket.

        This is an automatic acknowledgement; there is no need to answer it.

        """

    let text: MustacheTemplate
    let html: MustacheTemplate?

    /// Compiles the templates; throws `OutboundTemplateError` naming the template that does not parse.
    public init(text: String = Self.defaultAcknowledgementText, html: String? = nil, name: String = "default")
        throws(OutboundTemplateError)
    {
        do {
            self.text = try MustacheTemplate(string: "{{% CONTENT_TYPE: TEXT}}" + text)
        } catch {
            throw OutboundTemplateError(template: name, reason: "\(error)")
        }
        do {
            self.html = try html.map { try MustacheTemplate(string: $0) }
        } catch {
            throw OutboundTemplateError(template: name + " (HTML)", reason: "\(error)")
        }
    }

    /// Reads the templates from files (a queue's override). A missing HTML path means text only.
    public static func load(textFile: String, htmlFile: String?) throws(OutboundTemplateError) -> OutboundTemplates {
        func read(_ path: String) throws(OutboundTemplateError) -> String {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw OutboundTemplateError(template: path, reason: "cannot be read")
            }
            return String(decoding: data, as: UTF8.self)
        }
        return try OutboundTemplates(text: read(textFile), html: htmlFile.map(read), name: textFile)
    }

    /// The rendered text and HTML for `values`.
    func render(_ values: [String: String]) -> (text: String, html: String?) {
        (text.render(values), html?.render(values))
    }
}

/// A template that cannot be read or parsed.
public struct OutboundTemplateError: Error, Sendable, CustomStringConvertible {
    public var template: String
    public var reason: String

    public var description: String { "template \(template): \(reason)" }
}
