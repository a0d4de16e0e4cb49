import Crypto
import Foundation
import SwiftASN1
import X509

/// `--tls self-signed`: a development certificate for this machine's names, made at start-up with
/// swift-certificates. Browsers and clients must be told to trust it (its fingerprint is printed).
public enum DevelopmentCertificate {
    /// Writes a fresh P-256 key and a 30-day self-signed certificate for `localhost`, `127.0.0.1`, `::1` and
    /// `hosts` into `directory`; returns their paths and the certificate's SHA-256 fingerprint.
    public static func generate(in directory: String, hosts: [String] = [], now: Date = Date()) throws -> (
        certificatePath: String, keyPath: String, fingerprint: String
    ) {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            OrganizationName("Switchboard")
            CommonName("Switchboard development certificate")
        }
        var names: [GeneralName] = [.dnsName("localhost"), .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))]
        names.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice([UInt8](repeating: 0, count: 15) + [1]))))
        for host in Set(hosts) where !["", "0.0.0.0", "::", "localhost", "127.0.0.1", "::1"].contains(host) {
            if let bytes = ipBytes(host) {
                names.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(bytes))))
            } else {
                names.append(.dnsName(host))
            }
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: now - 3600, notValidAfter: now + 30 * 86_400, issuer: name, subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(names)
            },
            issuerPrivateKey: .init(key))
        let certificatePath = (directory as NSString).appendingPathComponent("self-signed-cert.pem")
        let keyPath = (directory as NSString).appendingPathComponent("self-signed-key.pem")
        try writePrivately(key.pemRepresentation, to: keyPath)
        try certificate.serializeAsPEM().pemString.write(toFile: certificatePath, atomically: true, encoding: .utf8)
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        return (certificatePath, keyPath, TLSCertificates.fingerprint(der: serializer.serializedBytes))
    }

    /// Writes a secret into a file created readable by its owner only (never, even briefly, by others).
    private static func writePrivately(_ text: String, to path: String) throws {
        unlink(path)
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else { throw TLSCertificateError("cannot create '\(path)': errno \(errno)") }
        defer { close(descriptor) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw TLSCertificateError("cannot write '\(path)': errno \(errno)") }
    }

    private static func ipBytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: v6) { Array($0) } }
        return nil
    }
}
