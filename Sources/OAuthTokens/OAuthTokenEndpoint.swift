import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Talks to one provider's token and device-authorization endpoints for one mailbox: form POSTs over
/// AsyncHTTPClient with a deadline, answers decoded strictly, errors mapped to `OAuthError` with the server's
/// words. Never puts a token or secret into an error.
struct OAuthTokenEndpoint: Sendable {
    /// The grant a token request carries; decides what an `invalid_grant` means.
    enum Grant: Sendable {
        case authorizationCode(code: String, redirectURI: String, verifier: String)
        case refresh(refreshToken: String)
        case clientCredentials
        case deviceCode(String)

        var name: String {
            switch self {
            case .authorizationCode: "authorization_code"
            case .refresh: "refresh_token"
            case .clientCredentials: "client_credentials"
            case .deviceCode: "urn:ietf:params:oauth:grant-type:device_code"
            }
        }
    }

    /// A token endpoint answer: tokens, or an RFC 6749/8628 error code the device flow acts on.
    enum Answer: Sendable {
        case tokens(OAuthTokenResponse)
        case error(OAuthError)
    }

    var settings: OAuthClientSettings
    var mailbox: String
    var client: HTTPClient
    var timeout: Duration

    /// Answers larger than this are not token answers.
    static let maximumAnswerBytes = 64 * 1024

    /// Exchanges a grant for tokens.
    func requestTokens(_ grant: Grant) async throws(OAuthError) -> OAuthTokenResponse {
        switch await answer(grant) {
        case .tokens(let response): return response
        case .error(let error): throw error
        }
    }

    /// Exchanges a grant for tokens, handing server errors back as values (the device flow loops on some).
    func answer(_ grant: Grant) async -> Answer {
        var fields: [(String, String)] = [("grant_type", grant.name), ("client_id", settings.clientID)]
        switch grant {
        case .authorizationCode(let code, let redirectURI, let verifier):
            fields += [("code", code), ("redirect_uri", redirectURI), ("code_verifier", verifier)]
        case .refresh(let refreshToken):
            fields.append(("refresh_token", refreshToken))
        case .clientCredentials:
            break
        case .deviceCode(let deviceCode):
            fields.append(("device_code", deviceCode))
        }
        let sendsScope: Bool
        switch grant {
        case .clientCredentials: sendsScope = true
        case .deviceCode: sendsScope = false
        default: sendsScope = settings.provider.sendsScopeWithGrants
        }
        if sendsScope { fields.append(("scope", settings.effectiveScopes.joined(separator: " "))) }
        if let secret = settings.clientSecret { fields.append(("client_secret", secret)) }
        let url = settings.provider.tokenURL.absoluteString
        do throws(OAuthError) {
            let (status, body) = try await post(url: url, fields: fields)
            // Some servers answer an error with 200: an `error` member and no access token is an error.
            let bodyData = Data(body.readableBytesView)
            let errorAnswer =
                !(200..<300).contains(status)
                || ((try? JSONDecoder().decode(OAuthErrorResponse.self, from: bodyData)) != nil
                    && (try? JSONDecoder().decode(OAuthTokenResponse.self, from: bodyData)) == nil)
            guard !errorAnswer else {
                return .error(serverError(status: status, body: body, url: url, grant: grant))
            }
            return .tokens(try decode(OAuthTokenResponse.self, body, status: status, url: url))
        } catch {
            return .error(error)
        }
    }

    /// Starts a device flow (RFC 8628 §3.1).
    func requestDeviceAuthorization() async throws(OAuthError) -> OAuthDeviceAuthorization {
        guard let url = settings.provider.deviceAuthorizationURL?.absoluteString else {
            throw OAuthError(
                kind: .notConfigured, mailbox: mailbox, endpoint: settings.provider.name,
                detail: "the provider has no device authorization endpoint")
        }
        var fields = [("client_id", settings.clientID), ("scope", settings.effectiveScopes.joined(separator: " "))]
        if let secret = settings.clientSecret { fields.append(("client_secret", secret)) }
        let (status, body) = try await post(url: url, fields: fields)
        guard (200..<300).contains(status) else {
            throw serverError(status: status, body: body, url: url, grant: nil)
        }
        return try decode(OAuthDeviceAuthorization.self, body, status: status, url: url)
    }

    private func post(url: String, fields: [(String, String)]) async throws(OAuthError) -> (Int, ByteBuffer) {
        // Secrets and tokens travel in these requests: only https, or plain http to this machine (test servers).
        guard let parsed = URL(string: url), Self.isSafe(parsed) else {
            throw OAuthError(
                kind: .notConfigured, mailbox: mailbox, endpoint: "POST \(url)",
                detail: "the endpoint must be https (plain http only to 127.0.0.1, ::1 or localhost)")
        }
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        request.body = .bytes(ByteBuffer(string: OAuthFormEncoding.encode(fields)))
        do {
            let response = try await client.execute(request, timeout: .nanoseconds(timeout.nanoseconds))
            let body = try await response.body.collect(upTo: Self.maximumAnswerBytes)
            return (Int(response.status.code), body)
        } catch let error as NIOTooManyBytesError {
            throw OAuthError(
                kind: .malformedResponse, mailbox: mailbox, endpoint: "POST \(url)",
                detail: "answer larger than \(Self.maximumAnswerBytes) bytes (\(error))")
        } catch {
            throw OAuthError(
                kind: .unavailable, mailbox: mailbox, endpoint: "POST \(url)",
                detail: "no answer within \(timeout) or connection failed: \(error)")
        }
    }

    /// https anywhere, http only to a loopback host.
    static func isSafe(_ url: URL) -> Bool {
        switch url.scheme?.lowercased() {
        case "https": return url.host != nil
        case "http": return ["127.0.0.1", "::1", "[::1]", "localhost"].contains(url.host?.lowercased() ?? "")
        default: return false
        }
    }

    private func decode<Value: Decodable>(
        _ type: Value.Type, _ body: ByteBuffer, status: Int, url: String
    ) throws(OAuthError) -> Value {
        do {
            return try JSONDecoder().decode(Value.self, from: Data(body.readableBytesView))
        } catch {
            throw OAuthError(
                kind: .malformedResponse, mailbox: mailbox, endpoint: "POST \(url)", httpStatus: status,
                detail: "not a valid answer: \(Self.reason(error))")
        }
    }

    /// Says which field was wrong without quoting the answer (it may hold a token).
    private static func reason(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): "missing \(key.stringValue)"
        case DecodingError.typeMismatch(_, let context): "\(field(context)) has the wrong type"
        case DecodingError.valueNotFound(_, let context): "\(field(context)) is null"
        case DecodingError.dataCorrupted(let context) where context.codingPath.isEmpty: "not JSON"
        case DecodingError.dataCorrupted(let context): context.debugDescription
        default: "undecodable"
        }
    }

    private static func field(_ context: DecodingError.Context) -> String {
        context.codingPath.last?.stringValue ?? "the answer"
    }

    /// Maps an error status and body to a typed error carrying the server's words.
    private func serverError(status: Int, body: ByteBuffer, url: String, grant: Grant?) -> OAuthError {
        let endpoint = "POST \(url)"
        let parsed = try? JSONDecoder().decode(OAuthErrorResponse.self, from: Data(body.readableBytesView))
        let words = parsed?.errorDescription ?? (parsed == nil ? Self.excerpt(body) : nil)
        let kind: OAuthError.Kind
        let detail: String
        switch (parsed?.error, grant) {
        case ("invalid_grant", .refresh?):
            kind = .consentRequired
            detail = "the refresh token was revoked or has expired"
        case ("interaction_required", .refresh?), ("consent_required", .refresh?), ("login_required", .refresh?):
            kind = .consentRequired
            detail = "the provider wants the person to sign in again (a policy changed)"
        case ("invalid_client", _), ("unauthorized_client", _):
            kind = .invalidClient
            detail = "the client id or secret was refused"
        case ("access_denied", _):
            kind = .accessDenied
            detail = "consent was declined"
        case ("expired_token", _):
            kind = .consentExpired
            detail = "the device code expired before consent"
        case ("temporarily_unavailable", _), ("server_error", _):
            kind = .unavailable
            detail = "the server cannot answer now"
        case _ where status >= 500 || status == 429 || status == 408:
            kind = .unavailable
            detail = "the server failed"
        default:
            kind = .refused
            detail = "the \(grant?.name ?? "device authorization") request was refused"
        }
        return OAuthError(
            kind: kind, mailbox: mailbox, endpoint: endpoint, httpStatus: status, serverError: parsed?.error,
            serverDescription: words, detail: detail)
    }

    /// The start of a non-JSON error body (a proxy's page), printable ASCII only, at most 200 characters.
    private static func excerpt(_ body: ByteBuffer) -> String? {
        let printable = body.readableBytesView.prefix(200).map {
            (0x20..<0x7F).contains($0) ? Character(UnicodeScalar($0)) : " "
        }
        let text = String(printable).trimmingCharacters(in: .whitespaces)
        return text.isEmpty ? nil : text
    }
}

extension Duration {
    /// Whole nanoseconds, for NIO's `TimeAmount`.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
