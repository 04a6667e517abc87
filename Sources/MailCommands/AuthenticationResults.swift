/// One `Authentication-Results` header field (RFC 8601): who checked the message (the authserv-id) and what each
/// method's result was, with its reason and properties. Comments are dropped; quoted strings are unquoted.
public struct AuthenticationResults: Sendable, Hashable {
    /// The authentication service that wrote the field, as written (compare it ASCII case-insensitively).
    public var authservID: String
    /// The version after the authserv-id, when present (absent means 1).
    public var version: Int?
    /// The results in field order; empty for `none` (no authentication was performed).
    public var results: [MethodResult]

    /// One `method=result` statement.
    public struct MethodResult: Sendable, Hashable {
        /// The method, lower-cased (`dkim`, `spf`, `dmarc`, `iprev`, `arc`, …).
        public var method: String
        /// The method's version (`dkim/1=pass`), when written.
        public var methodVersion: Int?
        /// The result, lower-cased (`pass`, `fail`, `softfail`, `neutral`, `none`, `temperror`, `permerror`, …).
        public var result: String
        /// The `reason=` value, when present.
        public var reason: String?
        /// The `ptype.property=value` statements in order (`header.d=example.com`, `smtp.mailfrom=a@example.com`).
        public var properties: [Property]

        public init(
            method: String, methodVersion: Int? = nil, result: String, reason: String? = nil,
            properties: [Property] = []
        ) {
            self.method = method
            self.methodVersion = methodVersion
            self.result = result
            self.reason = reason
            self.properties = properties
        }

        /// The value of the first property `type.name` (both lower case), or nil. O(properties).
        public func property(_ type: String, _ name: String) -> String? {
            properties.first { $0.type == type && $0.name == name }?.value
        }
    }

    /// One `ptype.property=value` statement.
    public struct Property: Sendable, Hashable {
        /// `smtp`, `header`, `body`, `policy`, … lower-cased.
        public var type: String
        /// `mailfrom`, `d`, `from`, `i`, `b`, … lower-cased.
        public var name: String
        /// The value as written, unquoted.
        public var value: String

        public init(type: String, name: String, value: String) {
            self.type = type
            self.name = name
            self.value = value
        }
    }

    public init(authservID: String, version: Int? = nil, results: [MethodResult]) {
        self.authservID = authservID
        self.version = version
        self.results = results
    }

    /// The field's value parsed, or nil when it is not RFC 8601 syntax. O(n) in the value's bytes, one forward
    /// pass (comments, however deeply nested, are skipped with a counter).
    public static func parse(_ headerValue: String) -> AuthenticationResults? {
        try? parsing(headerValue)
    }

    /// The field's value parsed, or why it is not RFC 8601 syntax (and where). O(n) in the value's bytes, one
    /// forward pass.
    public static func parsing(_ headerValue: String) throws(AuthenticationResultsSyntaxError) -> AuthenticationResults
    {
        var parser = AuthenticationResultsParser(headerValue)
        return try parser.parse()
    }

    /// The results of `method` (lower case). O(results).
    public func results(for method: String) -> [MethodResult] {
        results.filter { $0.method == method }
    }
}
