import Foundation
import PostdeskHTTP

extension ValidatingReader {
    /// `http.listen` (`host:port`, default `127.0.0.1:8025`; empty disables the HTTP server) and
    /// `http.tls.certificate` / `http.tls.key` (PEM files; both or neither). Every problem is reported with its key.
    mutating func httpServer() -> HTTPServerSettings? {
        let listen = string("http.listen")
        let certificate = optionalString("http.tls.certificate")
        let key = optionalString("http.tls.key")
        guard !listen.isEmpty else {
            if certificate != nil || key != nil {
                fail("http.tls.certificate", "http.listen is empty (no HTTP server): the TLS files are not used")
            }
            return nil
        }
        guard let colon = listen.lastIndex(of: ":"), colon != listen.startIndex,
            let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port)
        else {
            fail("http.listen", "must be host:port (e.g. 127.0.0.1:8025) or empty, got '\(listen)'")
            return nil
        }
        var host = String(listen[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        var settings = HTTPServerSettings(host: host, port: port)
        settings.busySharePercent = optionalInt("http.busy_share_percent", default: 5, minimum: 1)
        if settings.busySharePercent > 100 {
            fail("http.busy_share_percent", "must be at most 100, got \(settings.busySharePercent)")
        }
        switch (certificate, key) {
        case (nil, nil): break
        case (let certificate?, let key?):
            for (name, path) in [("http.tls.certificate", certificate), ("http.tls.key", key)]
            where !FileManager.default.isReadableFile(atPath: path) {
                fail(name, "cannot read \(path)")
            }
            settings.tlsCertificatePath = certificate
            settings.tlsKeyPath = key
        case (nil, _): fail("http.tls.certificate", "http.tls.key is set but the certificate is not")
        case (_, nil): fail("http.tls.key", "http.tls.certificate is set but the key is not")
        }
        return settings
    }
}
