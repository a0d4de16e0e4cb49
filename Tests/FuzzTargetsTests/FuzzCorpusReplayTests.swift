import Foundation
import FuzzTargets
import Testing

/// Every saved input goes through its target on every test run: the seed corpora, and each input that fuzzing
/// found a bug with (`fuzz/regressions/<target>/`), so a fixed parser stays fixed.
@Suite("Fuzz corpora and regressions")
struct FuzzCorpusReplayTests {
    /// `fuzz/` at the repository root, two folders above this file's.
    static let fuzzDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("fuzz")

    /// The entries of `directory` that are (or are not) directories, sorted; none when it does not exist.
    static func entries(of directory: URL, directories: Bool) -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.sorted().map { directory.appendingPathComponent($0) }.filter { url in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue == directories
        }
    }

    @Test(arguments: FuzzTarget.all.map(\.name))
    func savedInputsPass(target name: String) throws {
        let target = try #require(FuzzTarget.named(name))
        let seeds = Self.entries(of: Self.fuzzDirectory.appendingPathComponent("corpus/\(name)"), directories: false)
        let regressions = Self.entries(of: Self.fuzzDirectory.appendingPathComponent("regressions/\(name)"), directories: false)
        #expect(!seeds.isEmpty, "\(name) has no seed corpus")
        for file in seeds + regressions {
            let input = try [UInt8](Data(contentsOf: file))
            do {
                try target.run(input)
            } catch {
                Issue.record("\(file.path): \(error)")
            }
        }
    }

    @Test func everyInputFolderNamesATarget() {
        for kind in ["corpus", "regressions"] {
            for folder in Self.entries(of: Self.fuzzDirectory.appendingPathComponent(kind), directories: true) {
                #expect(FuzzTarget.named(folder.lastPathComponent) != nil, "fuzz/\(kind)/\(folder.lastPathComponent) names no target")
            }
        }
    }

    @Test func seedsFitTheirTargetsLength() {
        for target in FuzzTarget.all {
            for file in Self.entries(of: Self.fuzzDirectory.appendingPathComponent("corpus/\(target.name)"), directories: false) {
                let size = (try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int) ?? 0
                #expect(size <= target.maximumInputLength, "\(file.path) is longer than libFuzzer will try")
            }
        }
    }
}
