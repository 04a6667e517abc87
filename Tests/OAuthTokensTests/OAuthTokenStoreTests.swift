import Foundation
import Testing

@testable import OAuthTokens

/// The encrypted token store on real files, and the promise that no token or secret shows anywhere.
@Suite struct OAuthTokenStoreTests {
    static func scratch() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("oauth-store-\(UUID().uuidString)")
            .path
        return path
    }

    static func record(_ access: String = "ACCESS-Ünïcode-\(UUID().uuidString)", refresh: String? = nil)
        -> OAuthTokenRecord
    {
        OAuthTokenRecord(
            accessToken: access, accessTokenExpiresAt: Date().addingTimeInterval(3600),
            refreshToken: refresh ?? "REFRESH-\(UUID().uuidString)", refreshTokenObtainedAt: Date(),
            lastRefreshAt: Date())
    }

    @Test func filesAreEncryptedPrivateAndRoundTrip() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try OAuthTokenStore(directory: directory)
        let record = Self.record()
        try store.save(record, for: "support")
        #expect(try OAuthTokenStore(directory: directory).load("support") == record)
        #expect(try store.load("other") == nil)

        let bytes = try Data(contentsOf: URL(fileURLWithPath: store.path(for: "support")))
        for secret in [record.accessToken, record.refreshToken!, "ACCESS", "REFRESH", "accessToken"] {
            #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(secret.prefix(7)) in clear")
        }
        for path in [store.path(for: "support"), store.keyFile] {
            let mode = try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
            #expect(mode == 0o600, "\(path) mode \(String(mode, radix: 8))")
        }
        let directoryMode = try FileManager.default.attributesOfItem(atPath: directory)[.posixPermissions] as? Int
        #expect(directoryMode == 0o700)
        // Only the record and the key: no temporary file left behind.
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
                == ["oauth-tokens.key", "support.oauth-token"])
    }

    @Test func tamperedTruncatedForeignOrMovedFilesAreTypedErrors() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try OAuthTokenStore(directory: directory)
        try store.save(Self.record(), for: "support")
        let path = store.path(for: "support")
        let original = try Data(contentsOf: URL(fileURLWithPath: path))

        var flipped = original
        flipped[flipped.count / 2] ^= 0x01
        try flipped.write(to: URL(fileURLWithPath: path))
        let tampered = #expect(throws: OAuthError.self) { try store.load("support") }
        #expect(tampered?.kind == .store && tampered?.mailbox == "support" && tampered?.endpoint == path)
        #expect(tampered?.detail.contains("cannot be decrypted") == true)

        try original.prefix(20).write(to: URL(fileURLWithPath: path))
        #expect(throws: OAuthError.self) { try store.load("support") }
        try Data("{\"accessToken\":\"x\"}".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: OAuthError.self) { try store.load("support") }

        // Another mailbox's file copied under this name does not open (the name is authenticated).
        try original.write(to: URL(fileURLWithPath: store.path(for: "sales")))
        #expect(throws: OAuthError.self) { try store.load("sales") }

        // Another key: not readable.
        try original.write(to: URL(fileURLWithPath: path))
        let otherKey = try OAuthTokenStore(directory: directory, keyFile: directory + "/other.key")
        #expect(throws: OAuthError.self) { try otherKey.load("support") }
        #expect(try store.load("support") != nil)
    }

    @Test func keyFileIsCreatedOnceAndCheckedOnLoad() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try OAuthTokenStore(directory: directory)
        let key = try String(contentsOfFile: first.keyFile, encoding: .utf8)
        #expect(Data(base64Encoded: key.trimmingCharacters(in: .newlines))?.count == 32)
        _ = try OAuthTokenStore(directory: directory)
        #expect(try String(contentsOfFile: first.keyFile, encoding: .utf8) == key)

        chmod(first.keyFile, 0o644)
        let open = #expect(throws: OAuthError.self) { try OAuthTokenStore(directory: directory) }
        #expect(open?.detail.contains("644") == true && open?.mailbox == nil)
        chmod(first.keyFile, 0o600)
        try Data("short\n".utf8).write(to: URL(fileURLWithPath: first.keyFile))
        chmod(first.keyFile, 0o600)
        #expect(throws: OAuthError.self) { try OAuthTokenStore(directory: directory) }
    }

    @Test func mailboxNamesMapToDistinctSafeFileNames() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try OAuthTokenStore(directory: directory)
        let names = ["support", "../etc/passwd", ".hidden", "a b", "a%20b", "Zürich-Büro", "x.y_z-1"]
        let paths = names.map { store.path(for: $0) }
        #expect(Set(paths).count == names.count)
        for path in paths {
            #expect(URL(fileURLWithPath: path).deletingLastPathComponent().path == directory)
            #expect(!URL(fileURLWithPath: path).lastPathComponent.hasPrefix("."))
        }
        for name in names { try store.save(Self.record(), for: name) }
        for name in names { #expect(try store.load(name) != nil) }
        #expect(store.path(for: "x.y_z-1").hasSuffix("/x.y_z-1.oauth-token"))
    }

    /// Tokens and secrets never appear in descriptions, errors or log lines.
    @Test func noTokenOrSecretInDescriptionsErrorsOrLogs() async throws {
        try await OAuthTokenServer.with { server in
            let store = try OAuthTokenStore(directory: server.scratch("tokens"))
            let seeded = try await server.seed(store, mailbox: "support")
            let (logger, lines) = RecordingLogHandler.logger()
            var settings = server.settings(.authorizationCode)
            let manager = OAuthTokenManager(store: store, mailboxes: ["support": settings], logger: logger)
            await manager.tokenRejected(for: "support")
            let access = try await manager.accessToken(for: "support")
            let rotated = try #require(try store.load("support"))
            try await server.control("expire-access")
            try await server.control("fail", ["status": "400", "error": "invalid_grant", "description": "revoked"])
            await manager.tokenRejected(for: "support")
            let error = await #expect(throws: OAuthError.self) { try await manager.accessToken(for: "support") }
            settings.clientSecret = "VERY-SECRET-VALUE"
            let health = await manager.health(for: "support")

            let texts =
                lines.all + [
                    "\(seeded)", "\(rotated)", "\(settings)", "\(error.map { "\($0)" } ?? "")", "\(health)",
                ]
            #expect(lines.all.contains { $0.contains("oauth access token obtained") })
            let secrets = [
                seeded.accessToken, seeded.refreshToken!, access, rotated.refreshToken!, "VERY-SECRET-VALUE",
                OAuthTokenServer.clientSecret,
            ]
            for text in texts {
                for secret in secrets { #expect(!text.contains(secret), "a secret in: \(text.prefix(80))") }
            }
        }
    }

    @Test func tokenResponsesAreDecodedStrictly() throws {
        func decode(_ json: String) throws -> OAuthTokenResponse {
            try JSONDecoder().decode(OAuthTokenResponse.self, from: Data(json.utf8))
        }
        let ok = try decode(
            #"{"access_token":"a","token_type":"bearer","expires_in":"3599","ext_expires_in":3599,"id_token":"x"}"#)
        #expect(ok.expiresIn == 3599 && ok.refreshToken == nil)
        #expect(!ok.description.contains("\"a\""))
        for bad in [
            #"{"token_type":"Bearer","expires_in":3600}"#, #"{"access_token":"a","token_type":"mac"}"#,
            #"{"access_token":"","token_type":"Bearer"}"#, #"{"access_token":5,"token_type":"Bearer"}"#,
            #"{"access_token":"a","token_type":"Bearer","expires_in":"soon"}"#,
            #"{"access_token":"a","token_type":"Bearer","expires_in":-1}"#, "[]", "not json",
        ] {
            #expect(throws: DecodingError.self, "\(bad)") { try decode(bad) }
        }
    }

    @Test func providerPresetsAndPKCE() throws {
        let microsoft = OAuthProvider.microsoft(tenant: "contoso.onmicrosoft.com")
        #expect(
            microsoft.tokenURL.absoluteString
                == "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token")
        #expect(microsoft.authorizationURL?.absoluteString.hasSuffix("/oauth2/v2.0/authorize") == true)
        #expect(microsoft.deviceAuthorizationURL?.absoluteString.hasSuffix("/oauth2/v2.0/devicecode") == true)
        #expect(microsoft.delegatedScopes.last == "offline_access")
        let app = OAuthClientSettings(provider: microsoft, clientID: "c", clientSecret: "s", flow: .clientCredentials)
        #expect(app.effectiveScopes == ["https://outlook.office365.com/.default"])
        #expect(OAuthProvider.microsoft(tenant: "a/b").tokenURL.absoluteString.contains("a%2Fb"))
        #expect(OAuthProvider.google.tokenURL.absoluteString == "https://oauth2.googleapis.com/token")
        // RFC 7636 Appendix B.
        let pkce = OAuthPKCE(verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        #expect(pkce.challenge == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
        let fresh = OAuthPKCE()
        #expect(fresh.verifier.count == 43 && fresh.verifier != OAuthPKCE().verifier)
        #expect(fresh.verifier.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
    }
}
