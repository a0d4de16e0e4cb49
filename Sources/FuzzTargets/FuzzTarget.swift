/// One parser that takes bytes from the network, wrapped for libFuzzer and for replaying saved inputs.
///
/// A target's `run` must return for every input. It throws ``FuzzPropertyViolation`` when the parser breaks a
/// property it promises (a value it accepted does not survive its own encoder, say); anything else wrong traps.
/// `switchboard-fuzz` turns a violation into a crash, so libFuzzer saves the input; the corpus replay tests turn
/// it into a test failure naming the file.
public struct FuzzTarget: Sendable {
    /// The name: the value of `SWITCHBOARD_FUZZ_TARGET`, and the directory under `fuzz/corpus` and
    /// `fuzz/regressions` that holds its inputs.
    public var name: String
    /// The longest input worth generating (libFuzzer's `-max_len`): a little more than the parser accepts.
    public var maximumInputLength: Int
    /// What the target feeds and which properties it checks, for `switchboard-fuzz list`.
    public var summary: String
    /// Feeds one input to the parser and checks its properties.
    public var run: @Sendable ([UInt8]) throws(FuzzPropertyViolation) -> Void

    /// Creates a target.
    public init(
        name: String, maximumInputLength: Int, summary: String,
        run: @escaping @Sendable ([UInt8]) throws(FuzzPropertyViolation) -> Void
    ) {
        self.name = name
        self.maximumInputLength = maximumInputLength
        self.summary = summary
        self.run = run
    }

    /// Every target, one per parser that reads network input.
    public static let all: [FuzzTarget] = [
        .stunMessage, .channelData, .stunStream, .engineIOPacket, .engineIOPayload, .socketIOPacket, .json,
        .wsClientMessage,
    ]

    /// The target called `name`, if there is one.
    public static func named(_ name: String) -> FuzzTarget? {
        all.first { $0.name == name }
    }
}

/// A parser broke one of its promises for an input. Carries what was expected, for the crash report.
public struct FuzzPropertyViolation: Error, Hashable, Sendable, CustomStringConvertible {
    /// What did not hold.
    public var description: String

    /// Creates a violation.
    public init(_ description: String) {
        self.description = description
    }
}

/// Throws a ``FuzzPropertyViolation`` saying `message` unless `condition` holds.
func require(_ condition: Bool, _ message: @autoclosure () -> String) throws(FuzzPropertyViolation) {
    if !condition { throw FuzzPropertyViolation(message()) }
}
