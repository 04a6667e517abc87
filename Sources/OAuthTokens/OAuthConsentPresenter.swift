import Foundation

/// How a consent talks to the person: the CLI prints, tests act as the browser.
public struct OAuthConsentPresenter: Sendable {
    /// Shows the consent URL to open (authorization code flow). The loopback listener is already waiting.
    public var showAuthorizationURL: @Sendable (URL) async -> Void
    /// Reads what the person pastes (the redirect URL from the browser's address bar, or the bare code) when
    /// the browser runs on another machine and cannot reach the loopback listener. Nil: paste not offered;
    /// a nil answer (end of input) leaves only the listener. It races the listener; whichever answers first
    /// wins, and a still-blocked read is then abandoned (not awaited).
    public var readPastedResponse: (@Sendable () async -> String?)?
    /// Shows the device flow's code and page; polling starts when it returns.
    public var showDeviceCode: @Sendable (OAuthDeviceAuthorization) async -> Void

    public init(
        showAuthorizationURL: @escaping @Sendable (URL) async -> Void,
        readPastedResponse: (@Sendable () async -> String?)? = nil,
        showDeviceCode: @escaping @Sendable (OAuthDeviceAuthorization) async -> Void
    ) {
        self.showAuthorizationURL = showAuthorizationURL
        self.readPastedResponse = readPastedResponse
        self.showDeviceCode = showDeviceCode
    }
}
