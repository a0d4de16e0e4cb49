#if FUZZING
    import CLibFuzzer
    import Foundation
    import FuzzTargets

    /// The target libFuzzer drives. Its callback is a C function and captures nothing, so it reads this.
    private let selectedTarget = ProcessInfo.processInfo.environment["SWITCHBOARD_FUZZ_TARGET"].flatMap(FuzzTarget.named)

    /// Hands `main`'s arguments to libFuzzer with the selected target as the function under test.
    enum LibFuzzerDriver {
        static func run() -> Int32 {
            guard let target = selectedTarget else {
                let names = FuzzTarget.all.map(\.name).joined(separator: ", ")
                FileHandle.standardError.write(Data("switchboard-fuzz: set SWITCHBOARD_FUZZ_TARGET to one of \(names)\n".utf8))
                return 2
            }
            var arguments = CommandLine.arguments
            // The target knows how long an input is worth trying; an explicit -max_len wins.
            if !arguments.contains(where: { $0.hasPrefix("-max_len=") }) {
                arguments.insert("-max_len=\(target.maximumInputLength)", at: 1)
            }
            // A C argv; libFuzzer copies what it keeps, so it is freed once the driver returns (as -minimize_crash does;
            // a fuzzing run exits from inside), or LeakSanitizer reports it.
            let pointers = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: arguments.count + 1)
            for (index, argument) in arguments.enumerated() { pointers[index] = strdup(argument) }
            pointers[arguments.count] = nil
            defer {
                for index in arguments.indices { free(pointers[index]) }
                pointers.deallocate()
            }
            var argc = Int32(arguments.count)
            var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = pointers
            return LLVMFuzzerRunDriver(&argc, &argv) { data, size in
                guard let target = selectedTarget else { return -1 }
                do {
                    try target.run(Array(UnsafeBufferPointer(start: data, count: size)))
                } catch {
                    // A broken property is a crash to libFuzzer: it saves the input and stops.
                    fatalError("\(target.name): \(error)")
                }
                return 0
            }
        }
    }
#endif
