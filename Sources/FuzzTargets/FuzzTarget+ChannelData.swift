import NIOCore
import STUNProtocol

extension FuzzTarget {
    /// One UDP datagram read as ChannelData, as the relay's hot path reads it.
    public static let channelData = FuzzTarget(
        name: "channel-data", maximumInputLength: 4096,
        summary: "ChannelData.parseDatagram: the payload is exactly what the length field says, and writes back the same",
        run: ChannelDataFuzzing.run)
}

/// The checks behind ``FuzzTarget/channelData``.
enum ChannelDataFuzzing {
    static func run(_ input: [UInt8]) throws(FuzzPropertyViolation) {
        let buffer = ByteBuffer(bytes: input)
        let parsed = ChannelData.parseDatagram(buffer)
        var shifted = ByteBuffer(bytes: [0x40, 0x00] + input)
        shifted.moveReaderIndex(forwardBy: 2)
        let again = ChannelData.parseDatagram(shifted)
        try require(again?.channel == parsed?.channel && again?.payload == parsed?.payload, "parsing depends on the reader index")

        let length = input.count >= 4 ? Int(input[2]) << 8 | Int(input[3]) : nil
        guard let (channel, payload) = parsed else {
            // §12.5: only a datagram shorter than its length field is refused.
            try require(length.map { input.count < ChannelData.headerSize + $0 } ?? true, "a complete datagram was refused")
            return
        }
        guard let length else { throw FuzzPropertyViolation("a datagram shorter than the header was accepted") }
        try require(channel == UInt16(input[0]) << 8 | UInt16(input[1]), "channel \(channel) is not the first two bytes")
        try require(
            Array(payload.readableBytesView) == Array(input[ChannelData.headerSize..<ChannelData.headerSize + length]),
            "the payload is not the \(length) bytes after the header")
        for padded in [false, true] {
            var written = ByteBuffer()
            ChannelData.write(channel: channel, payload: payload, padded: padded, into: &written)
            try require(!padded || written.readableBytes % 4 == 0, "a padded ChannelData message is not a multiple of 4")
            let reread = ChannelData.parseDatagram(written)
            try require(reread?.channel == channel && reread?.payload == payload, "what was written does not read back")
        }
    }
}
