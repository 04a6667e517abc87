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

extension OAuthConsentPresenter {
    /// The presenter `postdesk oauth login` needs: prints the URL or the device code with what to do, and
    /// (with `offerPaste`) reads one pasted line from standard input on its own thread, so a blocked read never
    /// holds one of Swift's few concurrency threads.
    public static func terminal(
        print write: @escaping @Sendable (String) -> Void = { Swift.print($0) }, offerPaste: Bool = true
    ) -> OAuthConsentPresenter {
        let waiting =
            offerPaste
            ? "Waiting for the browser's redirect. If the browser runs on another machine, paste the address it "
                + "ends on (or the code) here and press Enter:"
            : "Waiting for the browser's redirect…"
        let showURL: @Sendable (URL) async -> Void = { url in
            write("Open this address in a browser and consent:\n\n  \(url.absoluteString)\n")
            write(waiting)
        }
        let showDeviceCode: @Sendable (OAuthDeviceAuthorization) async -> Void = { authorization in
            let fallback = "Open \(authorization.verificationURI) and enter the code \(authorization.userCode)."
            write(authorization.message ?? fallback)
            if let complete = authorization.verificationURIComplete { write("(or open \(complete))") }
            write("Waiting for consent (the code expires in \(authorization.expiresIn / 60) minutes)…")
        }
        let readPasted: @Sendable () async -> String? = {
            await withCheckedContinuation { (continuation: CheckedContinuation<String?, Never>) in
                Thread.detachNewThread { continuation.resume(returning: readLine(strippingNewline: true)) }
            }
        }
        return OAuthConsentPresenter(
            showAuthorizationURL: showURL, readPastedResponse: offerPaste ? readPasted : nil,
            showDeviceCode: showDeviceCode)
    }
}
