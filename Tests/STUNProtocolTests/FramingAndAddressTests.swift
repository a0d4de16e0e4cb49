import NIOCore
import NIOTestUtils
import STUNProtocol
import SwitchboardTestSupport
import Testing

@Suite("ChannelData, stream framing and addresses")
struct FramingAndAddressTests {
    @Test func demultiplexesByFirstByte() {
        #expect(ChannelData.isSTUN(firstByte: 0x00) && ChannelData.isSTUN(firstByte: 0x03))
        #expect(!ChannelData.isSTUN(firstByte: 0x04))
        #expect(ChannelData.isChannelData(firstByte: 0x40) && ChannelData.isChannelData(firstByte: 0x4F))
        #expect(!ChannelData.isChannelData(firstByte: 0x50) && !ChannelData.isChannelData(firstByte: 0x3F))
    }

    @Test func channelDataDatagrams() throws {
        var buffer = ByteBuffer()
        ChannelData.write(channel: 0x4001, payload: ByteBuffer(bytes: [1, 2, 3, 4, 5]), padded: false, into: &buffer)
        #expect(buffer.readableBytes == 9)
        let parsed = try #require(ChannelData.parseDatagram(buffer))
        #expect(parsed.channel == 0x4001 && parsed.payload == ByteBuffer(bytes: [1, 2, 3, 4, 5]))
        var padded = ByteBuffer()
        ChannelData.write(channel: 0x4001, payload: ByteBuffer(bytes: [1, 2, 3, 4, 5]), padded: true, into: &padded)
        #expect(padded.readableBytes == 12)
        #expect(ChannelData.parseDatagram(ByteBuffer(bytes: [0x40, 0x01, 0x00, 0x08, 1, 2, 3])) == nil)
        let empty = try #require(ChannelData.parseDatagram(ByteBuffer(bytes: [0x40, 0x01, 0x00, 0x00])))
        #expect(empty.payload.readableBytes == 0)
    }

    @Test func streamFramerSplitsMixedTraffic() throws {
        let stun = ByteBuffer(bytes: STUNTestVectors.sampleRequest.bytes)
        var channel = ByteBuffer()
        ChannelData.write(channel: 0x4002, payload: ByteBuffer(bytes: [9, 8, 7]), padded: true, into: &channel)
        var empty = ByteBuffer()
        ChannelData.write(channel: 0x4003, payload: ByteBuffer(), padded: true, into: &empty)
        var stream = ByteBuffer()
        stream.writeImmutableBuffer(stun)
        stream.writeImmutableBuffer(channel)
        stream.writeImmutableBuffer(empty)
        stream.writeImmutableBuffer(stun)
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: [
                (
                    stream,
                    [
                        .stun(stun), .channelData(channel: 0x4002, payload: ByteBuffer(bytes: [9, 8, 7])),
                        .channelData(channel: 0x4003, payload: ByteBuffer()), .stun(stun),
                    ]
                )
            ],
            decoderFactory: { STUNStreamFrameDecoder() })
    }

    @Test func streamFramerRejectsOtherTraffic() {
        var framer = STUNStreamFrameDecoder()
        // "GET" would look like ChannelData (0x47 is in 64-79); "POST" and a TLS record do not.
        var http = ByteBuffer(string: "POST / HTTP/1.1\r\n\r\n")
        #expect(throws: STUNStreamFramingError(firstByte: UInt8(ascii: "P"))) { try framer.decode(buffer: &http) }
        var tls = ByteBuffer(bytes: [0x16, 0x03, 0x01, 0x02, 0x00])
        #expect(throws: STUNStreamFramingError(firstByte: 0x16)) { try framer.decode(buffer: &tls) }
        var badCookie = ByteBuffer(bytes: [0x00, 0x01, 0x00, 0x00, 1, 2, 3, 4])
        #expect(throws: STUNStreamFramingError(firstByte: 0)) { try framer.decode(buffer: &badCookie) }
    }

    @Test(arguments: [
        ("127.0.0.1", "127.0.0.1"), ("::1", "::1"), ("::", "::"), ("2001:DB8::1", "2001:db8::1"),
        ("::ffff:127.0.0.1", "::ffff:7f00:1"), ("fe80:0:0:0:0:0:0:1", "fe80::1"), ("1:0:0:2:0:0:0:3", "1:0:0:2::3"),
        ("2001:db8:1234:5678:11:2233:4455:6677", "2001:db8:1234:5678:11:2233:4455:6677"),
    ])
    func ipTextRoundTrips(input: String, canonical: String) throws {
        let address = try #require(IPAddress(input))
        #expect(address.description == canonical)
        #expect(IPAddress(canonical) == address)
    }

    @Test(arguments: ["", "1.2.3", "1.2.3.256", "01.2.3.4", "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9", ":::", "g::1", "1.2.3.4.5"])
    func malformedIPText(input: String) {
        #expect(IPAddress(input) == nil)
    }

    @Test func unmapsMappedAndNAT64Forms() {
        #expect(IPAddress("::ffff:127.0.0.1")!.unmapped == IPAddress("127.0.0.1"))
        #expect(IPAddress("::ffff:0.0.0.0")!.unmapped == IPAddress("0.0.0.0"))
        #expect(IPAddress("64:ff9b::10.0.0.1")!.unmapped == IPAddress("10.0.0.1"))
        #expect(IPAddress("::1")!.unmapped == IPAddress("::1"))
        #expect(IPAddress("2001:db8::1")!.unmapped == IPAddress("2001:db8::1"))
    }
}
