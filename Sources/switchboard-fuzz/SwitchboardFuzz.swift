import Foundation

/// `switchboard-fuzz`: the fuzz targets of `FuzzTargets` as a program.
///
/// A normal build replays saved inputs (see ``Replay``). Built with `-DFUZZING -sanitize=fuzzer` (as
/// `scripts/fuzz.sh` does) it is a libFuzzer binary for the target named by `SWITCHBOARD_FUZZ_TARGET`.
@main
enum SwitchboardFuzz {
    static func main() {
        #if FUZZING
            exit(LibFuzzerDriver.run())
        #else
            exit(Replay.run(arguments: Array(CommandLine.arguments.dropFirst())))
        #endif
    }
}
