/// What a mail carrying a structured-request block asked for: a valid request, or why it is not one (the
/// pipeline then opens an ordinary ticket with the whole mail and an activity saying the error).
public enum StructuredRequestResult: Sendable, Hashable {
    case request(StructuredRequest)
    case invalid(StructuredRequestError)
}
