/// How `UID STORE` changes the flags.
public enum IMAPStoreOperation: String, Sendable, Hashable {
    case add = "+FLAGS"
    case remove = "-FLAGS"
    case replace = "FLAGS"
}
