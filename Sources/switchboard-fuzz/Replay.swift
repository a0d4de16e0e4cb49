import Foundation
import FuzzTargets

/// `switchboard-fuzz list` and `switchboard-fuzz replay TARGET PATH...`: saved inputs through a target, without
/// libFuzzer, to reproduce a crash in a debugger or to check a fix.
enum Replay {
    static let usage = """
        usage: switchboard-fuzz list
               switchboard-fuzz replay TARGET FILE_OR_DIRECTORY...

        replay runs each file (each file in a directory) through TARGET and reports broken properties; a parser
        that traps stops the program there, after its path was printed. fuzz/README.md explains the libFuzzer build.

        """

    static func run(arguments: [String]) -> Int32 {
        switch arguments.first {
        case "list":
            for target in FuzzTarget.all {
                let name = target.name.padding(toLength: 20, withPad: " ", startingAt: 0)
                print("\(name) max_len \(target.maximumInputLength)\t\(target.summary)")
            }
            return 0
        case "replay":
            guard arguments.count >= 3, let target = FuzzTarget.named(arguments[1]) else {
                let names = FuzzTarget.all.map(\.name).joined(separator: ", ")
                printError(usage + "targets: \(names)")
                return 2
            }
            return replay(target, paths: Array(arguments.dropFirst(2)))
        default:
            printError(usage)
            return 2
        }
    }

    static func replay(_ target: FuzzTarget, paths: [String]) -> Int32 {
        var files: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                printError("switchboard-fuzz: no such file: \(path)")
                return 2
            }
            guard isDirectory.boolValue else {
                files.append(path)
                continue
            }
            let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            for name in names.sorted() {
                var nested: ObjCBool = false
                let file = path + "/" + name
                if FileManager.default.fileExists(atPath: file, isDirectory: &nested), !nested.boolValue { files.append(file) }
            }
        }
        var failures = 0
        for file in files {
            // Printed first, so a trap's backtrace follows the name of the input that caused it.
            print(file)
            fflush(nil)
            guard let data = FileManager.default.contents(atPath: file) else {
                printError("switchboard-fuzz: cannot read \(file)")
                failures += 1
                continue
            }
            do {
                try target.run(Array(data))
            } catch {
                print("FAILED \(file): \(error)")
                failures += 1
            }
        }
        print("\(target.name): \(files.count - failures) of \(files.count) inputs passed")
        return failures == 0 ? 0 : 1
    }

    static func printError(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }
}
