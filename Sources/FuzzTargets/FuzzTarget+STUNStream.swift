import NIOCore
import STUNProtocol

extension FuzzTarget {
    /// A TURN TCP or TLS byte stream, arriving in reads of any size.
    ///
    /// The first input byte chooses how the rest is cut into reads: its low 3 bits bound a read to 1–128 bytes
    /// (0 feeds one byte at a time), and the whole byte seeds the sizes. Both channel ranges are framed.
    public static let stunStream = FuzzTarget(
        name: "stun-stream", maximumInputLength: 65_536,
        summary: "STUNStreamFrameDecoder: the same frames and error however the stream is cut into reads",
        run: STUNStreamFuzzing.run)
}

/// The checks behind ``FuzzTarget/stunStream``.
enum STUNStreamFuzzing {
    /// What framing a whole stream gives.
    struct Framing: Equatable {
        var frames: [STUNStreamFrame] = []
        var error: STUNStreamFramingError?
    }

    static func run(_ input: [UInt8]) throws(FuzzPropertyViolation) {
        guard let control = input.first else { return }
        let stream = input.dropFirst()
        var generator = SplitMix64(seed: UInt64(control))
        let largest = 1 << Int(control & 0x07)
        var reads: [ArraySlice<UInt8>] = []
        var start = stream.startIndex
        while start < stream.endIndex {
            let end = min(stream.endIndex, start + Int.random(in: 1...largest, using: &generator))
            reads.append(stream[start..<end])
            start = end
        }
        for rfc5766Range in [false, true] {
            let whole = try frame([stream], rfc5766Range: rfc5766Range)
            let cut = try frame(reads, rfc5766Range: rfc5766Range)
            try require(cut == whole, "framing depends on how the stream is read: \(cut) versus \(whole) at once")
            for frame in whole.frames {
                try check(frame, rfc5766Range: rfc5766Range)
            }
        }
    }

    /// Runs the decoder as `ByteToMessageHandler` does: decode after every read until it needs more, then at EOF.
    static func frame(_ reads: [ArraySlice<UInt8>], rfc5766Range: Bool) throws(FuzzPropertyViolation) -> Framing {
        var decoder = STUNStreamFrameDecoder(rfc5766Range: rfc5766Range)
        var buffer = ByteBuffer()
        var result = Framing()
        do {
            for read in reads {
                buffer.writeBytes(read)
                while let frame = try decoder.decode(buffer: &buffer) { result.frames.append(frame) }
            }
            while let frame = try decoder.decodeLast(buffer: &buffer, seenEOF: true) { result.frames.append(frame) }
        } catch let error as STUNStreamFramingError {
            result.error = error
        } catch {
            throw FuzzPropertyViolation("the framer threw \(error), not a STUNStreamFramingError")
        }
        return result
    }

    /// Each frame is what its type promises.
    static func check(_ frame: STUNStreamFrame, rfc5766Range: Bool) throws(FuzzPropertyViolation) {
        switch frame {
        case .stun(let bytes):
            // A frame sized by the STUN header decodes past the header checks.
            do {
                _ = try STUNParsedMessage(decoding: bytes)
            } catch .notSTUN, .badLength {
                throw FuzzPropertyViolation("a STUN frame of \(bytes.readableBytes) bytes fails the header checks")
            } catch {
                return
            }
        case .channelData(let channel, _):
            try require(
                ChannelData.isChannelData(firstByte: UInt8(channel >> 8), rfc5766Range: rfc5766Range),
                "channel \(channel) framed as ChannelData outside the range")
        }
    }
}

/// SplitMix64: a small deterministic generator, so an input always cuts its stream the same way.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
