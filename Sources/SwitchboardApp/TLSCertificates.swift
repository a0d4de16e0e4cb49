import Crypto
import Foundation
import Logging
import NIOSSL
import ServiceLifecycle
import Synchronization
import TURNServer
import UnixSignals

/// The PEM certificate chain and key behind every TLS listener (HTTPS/WSS and TURN over TLS), reloaded on SIGHUP
/// and when either file changes. New connections get the new certificate; live ones keep theirs. A bad new pair
/// is refused with an error log and the old one stays in service.
public final class TLSCertificates: Service {
    private struct Loaded {
        var context: NIOSSLContext
        var fingerprint: String
        var stamp: [Date?]
    }

    /// The certificate chain and key files.
    public let certificatePath: String
    public let keyPath: String
    private let pollInterval: Duration
    private let logger: Logger
    private let loaded: Mutex<Loaded>

    /// Loads the pair now; throws when it cannot be used, so a bad configuration fails at start-up.
    public init(certificatePath: String, keyPath: String, pollInterval: Duration = .seconds(2), logger: Logger) throws {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        self.pollInterval = pollInterval
        self.logger = logger
        let stamp = Self.stamp([certificatePath, keyPath])
        let context: NIOSSLContext
        let fingerprint: String
        do {
            (context, fingerprint) = try Self.load(certificatePath: certificatePath, keyPath: keyPath)
        } catch {
            throw TLSCertificateError("cannot load --tls-cert '\(certificatePath)' / --tls-key '\(keyPath)': \(error)")
        }
        loaded = Mutex(Loaded(context: context, fingerprint: fingerprint, stamp: stamp))
        logger.info("TLS certificate loaded", metadata: ["tls.certificate": "\(certificatePath)", "tls.sha256": "\(fingerprint)"])
    }

    /// What new TLS connections use.
    public var source: TLSContextSource {
        TLSContextSource { self.loaded.withLock { $0.context } }
    }

    /// The SHA-256 fingerprint of the certificate in service (colon-separated hex, as browsers show it).
    public var fingerprint: String { loaded.withLock { $0.fingerprint } }

    /// Loads the files again; on success the new certificate serves new connections.
    @discardableResult
    public func reload(reason: String) -> Bool {
        let stamp = Self.stamp([certificatePath, keyPath])
        do {
            let (context, fingerprint) = try Self.load(certificatePath: certificatePath, keyPath: keyPath)
            loaded.withLock { $0 = Loaded(context: context, fingerprint: fingerprint, stamp: stamp) }
            logger.notice("TLS certificate reloaded", metadata: ["tls.reason": "\(reason)", "tls.sha256": "\(fingerprint)"])
            return true
        } catch {
            // Remember the stamp, so a broken file is reported once, not every poll.
            loaded.withLock { $0.stamp = stamp }
            logger.error(
                "TLS certificate not reloaded: keeping the old one",
                metadata: ["tls.reason": "\(reason)", "tls.certificate": "\(certificatePath)", "tls.error": "\(error)"])
            return false
        }
    }

    /// Watches for SIGHUP and for changed files until shutdown.
    public func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        await withDiscardingTaskGroup { group in
            group.addTask {
                await cancelWhenGracefulShutdown {
                    for await _ in hangups { self.reload(reason: "SIGHUP") }
                }
            }
            group.addTask {
                await cancelWhenGracefulShutdown {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: self.pollInterval)
                        let current = Self.stamp([self.certificatePath, self.keyPath])
                        if current != self.loaded.withLock({ $0.stamp }) { self.reload(reason: "file changed") }
                    }
                }
            }
        }
    }

    static func load(certificatePath: String, keyPath: String) throws -> (NIOSSLContext, String) {
        let chain = try NIOSSLCertificate.fromPEMFile(certificatePath)
        guard let leaf = chain.first else { throw TLSCertificateError("'\(certificatePath)' holds no certificate") }
        let key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
        let configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        // NIOSSLContext checks that the key belongs to the leaf certificate.
        let context = try NIOSSLContext(configuration: configuration)
        return (context, fingerprint(der: try leaf.toDERBytes()))
    }

    /// Colon-separated upper-case hex of SHA-256 over the DER certificate.
    static func fingerprint(der: [UInt8]) -> String {
        SHA256.hash(data: der).map { String(format: "%02X", $0) }.joined(separator: ":")
    }

    private static func stamp(_ paths: [String]) -> [Date?] {
        paths.map { try? FileManager.default.attributesOfItem(atPath: $0)[.modificationDate] as? Date }
    }
}

/// A certificate or key file cannot be used.
public struct TLSCertificateError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
