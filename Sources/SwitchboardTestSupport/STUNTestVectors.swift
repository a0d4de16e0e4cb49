// Byte-exact STUN test vectors. Every byte below is copied from a published source, never computed here:
//
//   * RFC 5769 "Test Vectors for STUN", §2.1-§2.4 (https://www.rfc-editor.org/rfc/rfc5769), cross-checked
//     byte-for-byte against two independent transcriptions: pion/stun `rfc5769_test.go` (§2.1-§2.4) and
//     coturn/coturn `src/apps/rfc5769/rfc5769check.c` (§2.1-§2.4).
//   * RFC 8489 "STUN", Appendix B.1 (https://www.rfc-editor.org/rfc/rfc8489#appendix-B.1), both as published and
//     as corrected by erratum 6268 (https://www.rfc-editor.org/errata/eid6268); the corrected bytes were
//     cross-checked against ystreet/stun-proto `stun-types/src/message.rs` (test `rfc8489_vector1`).
//
// The annotations after each row follow the RFCs' annotated dumps ("}" marks a multi-row value).
// Verified with a stdlib-only Python script (header length, magic cookie, transaction ID, FINGERPRINT CRC-32,
// MESSAGE-INTEGRITY HMAC-SHA1, USERHASH SHA-256, MESSAGE-INTEGRITY-SHA256 HMAC-SHA256, XOR-MAPPED-ADDRESS);
// see the doc comment on each vector for exactly what holds.

/// Byte-exact STUN test vectors from RFC 5769 and RFC 8489 Appendix B.
///
/// What a codec test can rely on (all checked against the bytes below):
///
/// - ``sampleRequest``, ``ipv4Response``, ``ipv6Response``: header length == `bytes.count - 20`; FINGERPRINT is
///   `CRC-32(message before FINGERPRINT) ^ 0x5354554E`; MESSAGE-INTEGRITY is HMAC-SHA1 keyed with the UTF-8 bytes of
///   `password` (short-term credential, `"VOkJxbRl1RmTxUk/WvJxBt"`), computed with the header length covering
///   up to and including MESSAGE-INTEGRITY.
/// - ``longTermRequest``: MESSAGE-INTEGRITY is HMAC-SHA1 keyed with `MD5(username ":" realm ":" preparedPassword)`,
///   i.e. `MD5("\u{30DE}\u{30C8}\u{30EA}\u{30C3}\u{30AF}\u{30B9}:example.org:TheMatrIX")`. It has no FINGERPRINT.
/// - ``sha256UserhashRequest`` (RFC 8489 B.1 as corrected by erratum 6268): USERHASH is
///   `SHA-256(username ":" realm)`; PASSWORD-ALGORITHM is SHA-256 (0x0002) with no parameters;
///   MESSAGE-INTEGRITY-SHA256 is HMAC-SHA256 keyed with `SHA-256(username ":" realm ":" preparedPassword)`,
///   computed with the header length covering up to and including MESSAGE-INTEGRITY-SHA256.
/// - ``sha256UserhashRequestAsPublished`` is the RFC 8489 B.1 text exactly as printed; it is *not* a valid message
///   (see its doc comment) and is therefore not in ``all``.
public enum STUNTestVectors {
    /// One vector: the message bytes and what a decoder must find in them.
    public struct Vector: Sendable {
        /// Where the vector comes from, e.g. "RFC 5769 §2.1 sample request".
        public var name: String
        /// The complete STUN message, header included.
        public var bytes: [UInt8]
        /// The 12-byte transaction ID carried in the header.
        public var transactionID: [UInt8]
        /// The username exactly as the RFC gives it (UTF-8 for §2.4 and B.1), or `nil` when the message carries none.
        ///
        /// For RFC 8489 B.1 the message carries it only as USERHASH (SHA-256 of `username:realm`), not as USERNAME.
        public var username: String?
        /// The password exactly as the RFC gives it, before any SASLprep / OpaqueString processing.
        ///
        /// For §2.4 and B.1 this is `"The<U+00AD>M<U+00AA>tr<U+2168>"`; keys are derived from ``preparedPassword``.
        public var password: String
        /// The password after SASLprep (RFC 4013, §2.4) or OpaqueString (RFC 8265, B.1) processing, as the RFCs state it.
        ///
        /// `"TheMatrIX"` for §2.4 and B.1; identical to ``password`` for the short-term vectors §2.1-§2.3,
        /// where the HMAC key is the UTF-8 bytes of this string.
        public var preparedPassword: String
        /// The REALM value, or `nil` for short-term credentials.
        public var realm: String?
        /// The NONCE value, or `nil` for short-term credentials.
        public var nonce: String?
        /// The SOFTWARE value without padding, or `nil` when absent.
        public var software: String?
        /// The decoded XOR-MAPPED-ADDRESS (textual IP, port), or `nil` when absent.
        public var mappedAddress: (host: String, port: Int)?
    }

    /// RFC 5769 §2.1 "Sample Request" (108 bytes).
    /// Also in pion/stun rfc5769_test.go and coturn rfc5769check.c (`reqstc`).
    private static let sampleRequestBytes: [UInt8] = [
        0x00, 0x01, 0x00, 0x58,  //    Request type and message length
        0x21, 0x12, 0xa4, 0x42,  //    Magic cookie
        0xb7, 0xe7, 0xa7, 0x01,  // }
        0xbc, 0x34, 0xd6, 0x86,  // }  Transaction ID
        0xfa, 0x87, 0xdf, 0xae,  // }
        0x80, 0x22, 0x00, 0x10,  //    SOFTWARE attribute header
        0x53, 0x54, 0x55, 0x4e,  // }
        0x20, 0x74, 0x65, 0x73,  // }  User-agent...
        0x74, 0x20, 0x63, 0x6c,  // }  ...name
        0x69, 0x65, 0x6e, 0x74,  // }
        0x00, 0x24, 0x00, 0x04,  //    PRIORITY attribute header
        0x6e, 0x00, 0x01, 0xff,  //    ICE priority value
        0x80, 0x29, 0x00, 0x08,  //    ICE-CONTROLLED attribute header
        0x93, 0x2f, 0xf9, 0xb1,  // }  Pseudo-random tie breaker...
        0x51, 0x26, 0x3b, 0x36,  // }   ...for ICE control
        0x00, 0x06, 0x00, 0x09,  //    USERNAME attribute header
        0x65, 0x76, 0x74, 0x6a,  // }
        0x3a, 0x68, 0x36, 0x76,  // }  Username (9 bytes) and padding (3 bytes)
        0x59, 0x20, 0x20, 0x20,  // }
        0x00, 0x08, 0x00, 0x14,  //    MESSAGE-INTEGRITY attribute header
        0x9a, 0xea, 0xa7, 0x0c,  // }
        0xbf, 0xd8, 0xcb, 0x56,  // }
        0x78, 0x1e, 0xf2, 0xb5,  // }  HMAC-SHA1 fingerprint
        0xb2, 0xd3, 0xf2, 0x49,  // }
        0xc1, 0xb5, 0x71, 0xa2,  // }
        0x80, 0x28, 0x00, 0x04,  //    FINGERPRINT attribute header
        0xe5, 0x7a, 0x3b, 0xcf,  //    CRC32 fingerprint
    ]

    /// RFC 5769 §2.2 "Sample IPv4 Response" (80 bytes).
    /// Also in pion/stun rfc5769_test.go and coturn rfc5769check.c (`respv4`).
    private static let ipv4ResponseBytes: [UInt8] = [
        0x01, 0x01, 0x00, 0x3c,  //    Response type and message length
        0x21, 0x12, 0xa4, 0x42,  //    Magic cookie
        0xb7, 0xe7, 0xa7, 0x01,  // }
        0xbc, 0x34, 0xd6, 0x86,  // }  Transaction ID
        0xfa, 0x87, 0xdf, 0xae,  // }
        0x80, 0x22, 0x00, 0x0b,  //    SOFTWARE attribute header
        0x74, 0x65, 0x73, 0x74,  // }
        0x20, 0x76, 0x65, 0x63,  // }  UTF-8 server name
        0x74, 0x6f, 0x72, 0x20,  // }
        0x00, 0x20, 0x00, 0x08,  //    XOR-MAPPED-ADDRESS attribute header
        0x00, 0x01, 0xa1, 0x47,  //    Address family (IPv4) and xor'd mapped port number
        0xe1, 0x12, 0xa6, 0x43,  //    Xor'd mapped IPv4 address
        0x00, 0x08, 0x00, 0x14,  //    MESSAGE-INTEGRITY attribute header
        0x2b, 0x91, 0xf5, 0x99,  // }
        0xfd, 0x9e, 0x90, 0xc3,  // }
        0x8c, 0x74, 0x89, 0xf9,  // }  HMAC-SHA1 fingerprint
        0x2a, 0xf9, 0xba, 0x53,  // }
        0xf0, 0x6b, 0xe7, 0xd7,  // }
        0x80, 0x28, 0x00, 0x04,  //    FINGERPRINT attribute header
        0xc0, 0x7d, 0x4c, 0x96,  //    CRC32 fingerprint
    ]

    /// RFC 5769 §2.3 "Sample IPv6 Response" (92 bytes).
    /// Also in pion/stun rfc5769_test.go and coturn rfc5769check.c (`respv6`).
    private static let ipv6ResponseBytes: [UInt8] = [
        0x01, 0x01, 0x00, 0x48,  //    Response type and message length
        0x21, 0x12, 0xa4, 0x42,  //    Magic cookie
        0xb7, 0xe7, 0xa7, 0x01,  // }
        0xbc, 0x34, 0xd6, 0x86,  // }  Transaction ID
        0xfa, 0x87, 0xdf, 0xae,  // }
        0x80, 0x22, 0x00, 0x0b,  //    SOFTWARE attribute header
        0x74, 0x65, 0x73, 0x74,  // }
        0x20, 0x76, 0x65, 0x63,  // }  UTF-8 server name
        0x74, 0x6f, 0x72, 0x20,  // }
        0x00, 0x20, 0x00, 0x14,  //    XOR-MAPPED-ADDRESS attribute header
        0x00, 0x02, 0xa1, 0x47,  //    Address family (IPv6) and xor'd mapped port number
        0x01, 0x13, 0xa9, 0xfa,  // }
        0xa5, 0xd3, 0xf1, 0x79,  // }  Xor'd mapped IPv6 address
        0xbc, 0x25, 0xf4, 0xb5,  // }
        0xbe, 0xd2, 0xb9, 0xd9,  // }
        0x00, 0x08, 0x00, 0x14,  //    MESSAGE-INTEGRITY attribute header
        0xa3, 0x82, 0x95, 0x4e,  // }
        0x4b, 0xe6, 0x7b, 0xf1,  // }
        0x17, 0x84, 0xc9, 0x7c,  // }  HMAC-SHA1 fingerprint
        0x82, 0x92, 0xc2, 0x75,  // }
        0xbf, 0xe3, 0xed, 0x41,  // }
        0x80, 0x28, 0x00, 0x04,  //    FINGERPRINT attribute header
        0xc8, 0xfb, 0x0b, 0x4c,  //    CRC32 fingerprint
    ]

    /// RFC 5769 §2.4 "Sample Request with Long-Term Authentication" (116 bytes).
    /// Also in pion/stun rfc5769_test.go and coturn rfc5769check.c (`reqltc`).
    private static let longTermRequestBytes: [UInt8] = [
        0x00, 0x01, 0x00, 0x60,  //    Request type and message length
        0x21, 0x12, 0xa4, 0x42,  //    Magic cookie
        0x78, 0xad, 0x34, 0x33,  // }
        0xc6, 0xad, 0x72, 0xc0,  // }  Transaction ID
        0x29, 0xda, 0x41, 0x2e,  // }
        0x00, 0x06, 0x00, 0x12,  //    USERNAME attribute header
        0xe3, 0x83, 0x9e, 0xe3,  // }
        0x83, 0x88, 0xe3, 0x83,  // }
        0xaa, 0xe3, 0x83, 0x83,  // }  Username value (18 bytes) and padding (2 bytes)
        0xe3, 0x82, 0xaf, 0xe3,  // }
        0x82, 0xb9, 0x00, 0x00,  // }
        0x00, 0x15, 0x00, 0x1c,  //    NONCE attribute header
        0x66, 0x2f, 0x2f, 0x34,  // }
        0x39, 0x39, 0x6b, 0x39,  // }
        0x35, 0x34, 0x64, 0x36,  // }
        0x4f, 0x4c, 0x33, 0x34,  // }  Nonce value
        0x6f, 0x4c, 0x39, 0x46,  // }
        0x53, 0x54, 0x76, 0x79,  // }
        0x36, 0x34, 0x73, 0x41,  // }
        0x00, 0x14, 0x00, 0x0b,  //    REALM attribute header
        0x65, 0x78, 0x61, 0x6d,  // }
        0x70, 0x6c, 0x65, 0x2e,  // }  Realm value (11 bytes) and padding (1 byte)
        0x6f, 0x72, 0x67, 0x00,  // }
        0x00, 0x08, 0x00, 0x14,  //    MESSAGE-INTEGRITY attribute header
        0xf6, 0x70, 0x24, 0x65,  // }
        0x6d, 0xd6, 0x4a, 0x3e,  // }
        0x02, 0xb8, 0xe0, 0x71,  // }  HMAC-SHA1 fingerprint
        0x2e, 0x85, 0xc9, 0xa2,  // }
        0x8c, 0xa8, 0x96, 0x66,  // }
    ]

    /// RFC 8489 Appendix B.1 as corrected by erratum 6268 ("It should say"; 164 bytes).
    /// Also in ystreet/stun-proto stun-types/src/message.rs (`rfc8489_vector1`).
    private static let sha256UserhashRequestBytes: [UInt8] = [
        0x00, 0x01, 0x00, 0x90,  //    Request type and message length
        0x21, 0x12, 0xa4, 0x42,  //    Magic cookie
        0x78, 0xad, 0x34, 0x33,  // }
        0xc6, 0xad, 0x72, 0xc0,  // }  Transaction ID
        0x29, 0xda, 0x41, 0x2e,  // }
        0x00, 0x1e, 0x00, 0x20,  //    USERHASH attribute header
        0x4a, 0x3c, 0xf3, 0x8f,  // }
        0xef, 0x69, 0x92, 0xbd,  // }
        0xa9, 0x52, 0xc6, 0x78,  // }
        0x04, 0x17, 0xda, 0x0f,  // }  Userhash value (32 bytes)
        0x24, 0x81, 0x94, 0x15,  // }
        0x56, 0x9e, 0x60, 0xb2,  // }
        0x05, 0xc4, 0x6e, 0x41,  // }
        0x40, 0x7f, 0x17, 0x04,  // }
        0x00, 0x15, 0x00, 0x29,  //    NONCE attribute header
        0x6f, 0x62, 0x4d, 0x61,  // }
        0x74, 0x4a, 0x6f, 0x73,  // }
        0x32, 0x41, 0x41, 0x41,  // }
        0x43, 0x66, 0x2f, 0x2f,  // }
        0x34, 0x39, 0x39, 0x6b,  // }  Nonce value and padding (3 bytes)
        0x39, 0x35, 0x34, 0x64,  // }
        0x36, 0x4f, 0x4c, 0x33,  // }
        0x34, 0x6f, 0x4c, 0x39,  // }
        0x46, 0x53, 0x54, 0x76,  // }
        0x79, 0x36, 0x34, 0x73,  // }
        0x41, 0x00, 0x00, 0x00,  // }
        0x00, 0x14, 0x00, 0x0b,  //    REALM attribute header
        0x65, 0x78, 0x61, 0x6d,  // }
        0x70, 0x6c, 0x65, 0x2e,  // }  Realm value (11 bytes) and padding (1 byte)
        0x6f, 0x72, 0x67, 0x00,  // }
        0x00, 0x1d, 0x00, 0x04,  //    PASSWORD-ALGORITHM attribute header
        0x00, 0x02, 0x00, 0x00,  //    PASSWORD-ALGORITHM value (4 bytes): SHA-256, no parameters
        0x00, 0x1c, 0x00, 0x20,  //    MESSAGE-INTEGRITY-SHA256 attribute header
        0xb5, 0xc7, 0xbf, 0x00,  // }
        0x5b, 0x6c, 0x52, 0xa2,  // }
        0x1c, 0x51, 0xc5, 0xe8,  // }
        0x92, 0xf8, 0x19, 0x24,  // }  HMAC-SHA256 value
        0x13, 0x62, 0x96, 0xcb,  // }
        0x92, 0x7c, 0x43, 0x14,  // }
        0x93, 0x09, 0x27, 0x8c,  // }
        0xc6, 0x51, 0x8e, 0x65,  // }
    ]

    /// RFC 8489 Appendix B.1 exactly as published (156 bytes); also quoted verbatim
    /// as "Section Appendix B.1 says" in erratum 6268.
    private static let sha256UserhashRequestAsPublishedBytes: [UInt8] = [
        0x00, 0x01, 0x00, 0x9c,  //    Request type and message length (0x9c = whole message, header included: wrong)
        0x21, 0x12, 0xa4, 0x42,  //    Magic cookie
        0x78, 0xad, 0x34, 0x33,  // }
        0xc6, 0xad, 0x72, 0xc0,  // }  Transaction ID
        0x29, 0xda, 0x41, 0x2e,  // }
        0x00, 0x1e, 0x00, 0x20,  //    USERHASH attribute header
        0x4a, 0x3c, 0xf3, 0x8f,  // }
        0xef, 0x69, 0x92, 0xbd,  // }
        0xa9, 0x52, 0xc6, 0x78,  // }
        0x04, 0x17, 0xda, 0x0f,  // }  Userhash value (32 bytes)
        0x24, 0x81, 0x94, 0x15,  // }
        0x56, 0x9e, 0x60, 0xb2,  // }
        0x05, 0xc4, 0x6e, 0x41,  // }
        0x40, 0x7f, 0x17, 0x04,  // }
        0x00, 0x15, 0x00, 0x29,  //    NONCE attribute header
        0x6f, 0x62, 0x4d, 0x61,  // }
        0x74, 0x4a, 0x6f, 0x73,  // }
        0x32, 0x41, 0x41, 0x41,  // }
        0x43, 0x66, 0x2f, 0x2f,  // }
        0x34, 0x39, 0x39, 0x6b,  // }  Nonce value and padding (3 bytes)
        0x39, 0x35, 0x34, 0x64,  // }
        0x36, 0x4f, 0x4c, 0x33,  // }
        0x34, 0x6f, 0x4c, 0x39,  // }
        0x46, 0x53, 0x54, 0x76,  // }
        0x79, 0x36, 0x34, 0x73,  // }
        0x41, 0x00, 0x00, 0x00,  // }
        0x00, 0x14, 0x00, 0x0b,  //    REALM attribute header
        0x65, 0x78, 0x61, 0x6d,  // }
        0x70, 0x6c, 0x65, 0x2e,  // }  Realm value (11 bytes) and padding (1 byte)
        0x6f, 0x72, 0x67, 0x00,  // }
        0x00, 0x1c, 0x00, 0x20,  //    MESSAGE-INTEGRITY-SHA256 attribute header
        0xe4, 0x68, 0x6c, 0x8f,  // }
        0x0e, 0xde, 0xb5, 0x90,  // }
        0x13, 0xe0, 0x70, 0x90,  // }
        0x01, 0x0a, 0x93, 0xef,  // }  HMAC-SHA256 value
        0xcc, 0xbc, 0xcc, 0x54,  // }
        0x4c, 0x0a, 0x45, 0xd9,  // }
        0xf8, 0x30, 0xaa, 0x6d,  // }
        0x6f, 0x73, 0x5a, 0x01,  // }
    ]

    /// RFC 5769 §2.1: Binding request with SOFTWARE, PRIORITY, ICE-CONTROLLED, USERNAME, MESSAGE-INTEGRITY, FINGERPRINT.
    ///
    /// Verified: header length 0x0058 == 108 - 20; MESSAGE-INTEGRITY (short-term key `password`); FINGERPRINT 0xE57A3BCF.
    /// USERNAME is padded with three 0x20 bytes (the RFC pads with spaces, not zeros); decoders must ignore padding.
    public static let sampleRequest = Vector(
        name: "RFC 5769 §2.1 sample request",
        bytes: sampleRequestBytes,
        transactionID: [0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae],
        username: "evtj:h6vY",
        password: "VOkJxbRl1RmTxUk/WvJxBt",
        preparedPassword: "VOkJxbRl1RmTxUk/WvJxBt",
        realm: nil,
        nonce: nil,
        software: "STUN test client",
        mappedAddress: nil
    )

    /// RFC 5769 §2.2: Binding success response with SOFTWARE, XOR-MAPPED-ADDRESS (IPv4), MESSAGE-INTEGRITY, FINGERPRINT.
    ///
    /// Verified: header length 0x003C == 80 - 20; XOR-MAPPED-ADDRESS decodes to 192.0.2.1 port 32853;
    /// MESSAGE-INTEGRITY (short-term key `password`); FINGERPRINT 0xC07D4C96. SOFTWARE is the 11 bytes "test vector"
    /// followed by one 0x20 padding byte. The RFC names no username for the responses.
    public static let ipv4Response = Vector(
        name: "RFC 5769 §2.2 sample IPv4 response",
        bytes: ipv4ResponseBytes,
        transactionID: [0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae],
        username: nil,
        password: "VOkJxbRl1RmTxUk/WvJxBt",
        preparedPassword: "VOkJxbRl1RmTxUk/WvJxBt",
        realm: nil,
        nonce: nil,
        software: "test vector",
        mappedAddress: (host: "192.0.2.1", port: 32853)
    )

    /// RFC 5769 §2.3: Binding success response with SOFTWARE, XOR-MAPPED-ADDRESS (IPv6), MESSAGE-INTEGRITY, FINGERPRINT.
    ///
    /// Verified: header length 0x0048 == 92 - 20; XOR-MAPPED-ADDRESS (XOR with magic cookie + transaction ID)
    /// decodes to 2001:db8:1234:5678:11:2233:4455:6677 port 32853; MESSAGE-INTEGRITY (short-term key `password`);
    /// FINGERPRINT 0xC8FB0B4C. SOFTWARE padding is one 0x20 byte.
    public static let ipv6Response = Vector(
        name: "RFC 5769 §2.3 sample IPv6 response",
        bytes: ipv6ResponseBytes,
        transactionID: [0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae],
        username: nil,
        password: "VOkJxbRl1RmTxUk/WvJxBt",
        preparedPassword: "VOkJxbRl1RmTxUk/WvJxBt",
        realm: nil,
        nonce: nil,
        software: "test vector",
        mappedAddress: (host: "2001:db8:1234:5678:11:2233:4455:6677", port: 32853)
    )

    /// RFC 5769 §2.4: Binding request with USERNAME, NONCE, REALM, MESSAGE-INTEGRITY (long-term credentials).
    ///
    /// Username is "マトリックス" (U+30DE U+30C8 U+30EA U+30C3 U+30AF U+30B9), unaffected by SASLprep. The raw password
    /// "The<U+00AD>M<U+00AA>tr<U+2168>" becomes "TheMatrIX" after SASLprep (soft hyphen dropped, NFKC).
    /// Verified: header length 0x0060 == 116 - 20; MESSAGE-INTEGRITY is HMAC-SHA1 keyed with
    /// `MD5("マトリックス:example.org:TheMatrIX")` (key e8ca7ad59d5eb0518e312911d2dab2a9). No FINGERPRINT.
    public static let longTermRequest = Vector(
        name: "RFC 5769 §2.4 sample request with long-term authentication",
        bytes: longTermRequestBytes,
        transactionID: [0x78, 0xad, 0x34, 0x33, 0xc6, 0xad, 0x72, 0xc0, 0x29, 0xda, 0x41, 0x2e],
        username: "\u{30DE}\u{30C8}\u{30EA}\u{30C3}\u{30AF}\u{30B9}",  // マトリックス
        password: "The\u{00AD}M\u{00AA}tr\u{2168}",  // SASLprep -> "TheMatrIX"
        preparedPassword: "TheMatrIX",
        realm: "example.org",
        nonce: "f//499k954d6OL34oL9FSTvy64sA",
        software: nil,
        mappedAddress: nil
    )

    /// RFC 8489 Appendix B.1 as corrected by erratum 6268: USERHASH, NONCE, REALM, PASSWORD-ALGORITHM (SHA-256),
    /// MESSAGE-INTEGRITY-SHA256.
    ///
    /// The published B.1 bytes do not verify (see ``sha256UserhashRequestAsPublished``); erratum 6268
    /// (https://www.rfc-editor.org/errata/eid6268) fixes the header length (0x009C -> 0x0090), adds
    /// PASSWORD-ALGORITHM (0x001D, value 0x0002 0x0000) and recomputes MESSAGE-INTEGRITY-SHA256.
    /// Verified on these bytes: header length 0x0090 == 164 - 20; USERHASH == SHA-256("マトリックス:example.org");
    /// MESSAGE-INTEGRITY-SHA256 == HMAC-SHA256(key: SHA-256("マトリックス:example.org:TheMatrIX"), bytes 0..<128
    /// with the header length field as-is, 0x0090). There is no USERNAME attribute: ``Vector/username`` is what the
    /// USERHASH hashes. No FINGERPRINT.
    public static let sha256UserhashRequest = Vector(
        name: "RFC 8489 Appendix B.1 (with erratum 6268) sample request with USERHASH and MESSAGE-INTEGRITY-SHA256",
        bytes: sha256UserhashRequestBytes,
        transactionID: [0x78, 0xad, 0x34, 0x33, 0xc6, 0xad, 0x72, 0xc0, 0x29, 0xda, 0x41, 0x2e],
        username: "\u{30DE}\u{30C8}\u{30EA}\u{30C3}\u{30AF}\u{30B9}",  // マトリックス, carried as USERHASH
        password: "The\u{00AD}M\u{00AA}tr\u{2168}",  // OpaqueString -> "TheMatrIX"
        preparedPassword: "TheMatrIX",
        realm: "example.org",
        nonce: "obMatJos2AAACf//499k954d6OL34oL9FSTvy64sA",
        software: nil,
        mappedAddress: nil
    )

    /// RFC 8489 Appendix B.1 exactly as published. NOT a valid message; kept so tests can assert that it is rejected.
    ///
    /// What holds: magic cookie, transaction ID, attributes tile the 156 bytes exactly, USERHASH ==
    /// SHA-256("マトリックス:example.org"), NONCE and REALM values.
    /// What does not hold (the defects erratum 6268 reports):
    /// - the header length is 0x009C = 156, the whole message *including* the 20-byte header (should be 0x0088 = 136),
    ///   so a decoder that checks `length == bytes.count - 20` must reject it;
    /// - there is no PASSWORD-ALGORITHM attribute although SHA-256 is not the default algorithm;
    /// - MESSAGE-INTEGRITY-SHA256 does not verify when computed correctly (header length set to 0x0088, the end of
    ///   the attribute): the expected HMAC would be 234112fbd4e27f98.... The published value e4686c8f...6f735a01 equals
    ///   HMAC-SHA256(key: SHA-256("マトリックス:example.org:TheMatrIX"), bytes 0..<120 with the header length left at
    ///   the wrong 0x009C), i.e. it was computed over the wrong length field.
    public static let sha256UserhashRequestAsPublished = Vector(
        name: "RFC 8489 Appendix B.1 as published (invalid: wrong length, no PASSWORD-ALGORITHM; see erratum 6268)",
        bytes: sha256UserhashRequestAsPublishedBytes,
        transactionID: [0x78, 0xad, 0x34, 0x33, 0xc6, 0xad, 0x72, 0xc0, 0x29, 0xda, 0x41, 0x2e],
        username: "\u{30DE}\u{30C8}\u{30EA}\u{30C3}\u{30AF}\u{30B9}",  // マトリックス, carried as USERHASH
        password: "The\u{00AD}M\u{00AA}tr\u{2168}",  // OpaqueString -> "TheMatrIX"
        preparedPassword: "TheMatrIX",
        realm: "example.org",
        nonce: "obMatJos2AAACf//499k954d6OL34oL9FSTvy64sA",
        software: nil,
        mappedAddress: nil
    )

    /// Every vector that is a valid STUN message: RFC 5769 §2.1-§2.4 and RFC 8489 B.1 with erratum 6268.
    ///
    /// ``sha256UserhashRequestAsPublished`` is deliberately left out: it fails the length check.
    public static let all: [Vector] = [
        sampleRequest,
        ipv4Response,
        ipv6Response,
        longTermRequest,
        sha256UserhashRequest,
    ]
}
