/// Where the HTTP server listens (`http.listen`) and its TLS files (`http.tls.certificate`, `http.tls.key`).
public struct HTTPServerSettings: Sendable, Hashable {
    public var host: String
    /// 0: any free port (tests); the server reports the one it bound.
    public var port: Int
    /// PEM certificate chain and private key; nil: plain HTTP.
    public var tlsCertificatePath: String?
    public var tlsKeyPath: String?
    /// The API's share of the time while intake is busy, in percent (`http.busy_share_percent`); 100: never held.
    public var busySharePercent = 5

    public init(host: String, port: Int, tlsCertificatePath: String? = nil, tlsKeyPath: String? = nil) {
        self.host = host
        self.port = port
        self.tlsCertificatePath = tlsCertificatePath
        self.tlsKeyPath = tlsKeyPath
    }
}
