import SignalingCore
import SocketIOProtocol

extension FuzzTarget {
    /// The text of one Socket.IO packet (an Engine.IO message without its `4`), then its binary attachments.
    public static let socketIOPacket = FuzzTarget(
        name: "socketio-packet", maximumInputLength: 16_384,
        summary: "SocketIOPacket.parse, SocketIOBinaryAssembler and the $binary embedding: a packet encodes back to itself",
        run: SocketIOFuzzing.run)
}

/// The checks behind ``FuzzTarget/socketIOPacket``.
enum SocketIOFuzzing {
    /// `SocketIOServer`'s default: socket.io-parser's limit.
    static let maximumAttachments = 10

    static func run(_ input: [UInt8]) throws(FuzzPropertyViolation) {
        let text = String(decoding: input, as: UTF8.self)
        guard let (header, count) = try? SocketIOPacket.parse(text, maximumAttachments: maximumAttachments) else { return }
        try require((0...maximumAttachments).contains(count), "\(count) attachments accepted")
        try require(count == 0 || header.type.isBinary, "a \(header.type) packet announced attachments")
        _ = header.event

        var assembler = SocketIOBinaryAssembler()
        var assembled: SocketIOPacket?
        do {
            assembled = try assembler.begin(header, attachmentCount: count)
            var index = 0
            while assembled == nil, index < count {
                assembled = try assembler.add([UInt8(truncatingIfNeeded: index), 0xFF])
                index += 1
            }
        } catch {
            // A placeholder naming no attachment: refused, as the reference parser does.
            return
        }
        guard let packet = assembled else {
            throw FuzzPropertyViolation("\(count) attachments did not complete the packet")
        }
        try require(packet.attachments.count == count, "\(packet.attachments.count) attachments, \(count) announced")
        try require(!assembler.isAwaitingAttachments, "the assembler still waits after the last attachment")

        if let data = packet.data {
            let embedded = SocketIOBinaryEmbedding.embed(data, attachments: packet.attachments)
            _ = SocketIOBinaryEmbedding.extract([embedded], limit: maximumAttachments)
        }

        // What the parser accepts, the encoder writes so that the parser finds the same header again.
        let encoded = packet.encoded
        let reparsed: (packet: SocketIOPacket, attachmentCount: Int)
        do {
            reparsed = try SocketIOPacket.parse(encoded, maximumAttachments: maximumAttachments)
        } catch {
            throw FuzzPropertyViolation("the encoding \(encoded) of an accepted packet is refused: \(error)")
        }
        try require(
            reparsed.packet == header && reparsed.attachmentCount == count,
            "\(encoded) reads back as \(reparsed.packet) with \(reparsed.attachmentCount) attachments")
    }
}
