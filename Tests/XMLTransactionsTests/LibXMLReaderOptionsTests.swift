import Testing

@testable import XMLTransactions

@Suite struct LibXMLReaderOptionsTests {
    /// The options never include what would load or expand anything, nor lift libxml2's own limits.
    @Test func readerOptionsAreNonetAndNothingDangerous() {
        let options = UInt32(bitPattern: LibXMLTreeReader.parseOptions)
        #expect(options & XMLParserOptionBits.nonet != 0)
        for forbidden in [
            XMLParserOptionBits.noent, XMLParserOptionBits.dtdload, XMLParserOptionBits.dtdattr,
            XMLParserOptionBits.dtdvalid, XMLParserOptionBits.xinclude, XMLParserOptionBits.huge,
        ] {
            #expect(options & forbidden == 0)
        }
    }
}

/// libxml2's option bits (parser.h), written out so the test does not import the C module.
enum XMLParserOptionBits {
    static let noent: UInt32 = 1 << 1
    static let dtdload: UInt32 = 1 << 2
    static let dtdattr: UInt32 = 1 << 3
    static let dtdvalid: UInt32 = 1 << 4
    static let xinclude: UInt32 = 1 << 10
    static let nonet: UInt32 = 1 << 11
    static let huge: UInt32 = 1 << 19
}
