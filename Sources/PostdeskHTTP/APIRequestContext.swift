import Hummingbird

/// The request context of the API: Hummingbird's core storage and who the bearer token says is asking.
struct APIRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// The name of the token that authenticated this request (activities name it); nil before authentication
    /// and on the routes that need none.
    var tokenName: String?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }
}
