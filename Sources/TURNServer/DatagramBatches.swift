import CDatagramIO
import NIOCore
import STUNProtocol

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Memory for receiving a batch of datagrams with one recvmmsg: allocated once per loop and shared by every socket
/// the loop reads, so a relay socket costs no buffer of its own.
final class ReceiveSlots {
    /// How many datagrams one call can return.
    let count: Int
    private let datagrams: UnsafeMutablePointer<cdio_datagram>
    private let memory: UnsafeMutableRawPointer

    /// - Parameters:
    ///   - count: datagrams per batch.
    ///   - slotSize: the largest datagram kept whole; a longer one is dropped.
    init(count: Int, slotSize: Int = 65_536) {
        self.count = count
        datagrams = .allocate(capacity: count)
        memory = .allocate(byteCount: count * slotSize, alignment: 16)
        for index in 0..<count {
            datagrams[index] = cdio_datagram()
            datagrams[index].bytes = memory + index * slotSize
            datagrams[index].capacity = UInt32(slotSize)
        }
    }

    deinit {
        datagrams.deallocate()
        memory.deallocate()
    }

    /// Reads what `descriptor` holds, up to `limit` datagrams: how many arrived (0 when none was waiting).
    @inline(__always)
    func receive(from descriptor: Int32, limit: Int) -> Int {
        Int(max(0, cdio_receive(descriptor, datagrams, Int32(min(limit, count)))))
    }

    /// The bytes of datagram `index` of the last batch and where it came from; `nil` for one longer than a slot
    /// (it arrived cut short) or from an address that is not IP.
    @inline(__always)
    func datagram(_ index: Int) -> (bytes: UnsafeRawBufferPointer, source: TransportAddress)? {
        guard datagrams[index].truncated == 0,
            let source = withUnsafePointer(to: &datagrams[index].address, { TransportAddress($0) })
        else { return nil }
        return (UnsafeRawBufferPointer(start: datagrams[index].bytes, count: Int(datagrams[index].length)), source)
    }
}

/// Datagrams for clients, gathered while a loop turn handles what arrived and sent with one sendmmsg at its end
/// (or sooner, when the batch fills): one system call for many relayed packets.
final class ClientSendBatch {
    private let socket: UDPSocket
    private let mapToIPv6: Bool
    private let capacity: Int
    private let datagrams: UnsafeMutablePointer<cdio_datagram>
    private var offsets: [Int]
    private var count = 0
    /// Every queued datagram's bytes, one after another; cleared after each send, so it never allocates again.
    private var arena: ByteBuffer
    private static let arenaSize = 1 << 20
    /// The most one datagram can need: a whole UDP payload plus a Data indication's header and padding.
    private static let largestDatagram = 65_536 + 64

    /// - Parameters:
    ///   - socket: the listener the datagrams leave from.
    ///   - mapToIPv6: the listener is an IPv6 socket, so IPv4 clients are addressed in their `::ffff:` form.
    init(socket: UDPSocket, mapToIPv6: Bool, capacity: Int = 64) {
        self.socket = socket
        self.mapToIPv6 = mapToIPv6
        self.capacity = capacity
        datagrams = .allocate(capacity: capacity)
        datagrams.initialize(repeating: cdio_datagram(), count: capacity)
        offsets = Array(repeating: 0, count: capacity)
        arena = ByteBufferAllocator().buffer(capacity: Self.arenaSize)
    }

    deinit {
        datagrams.deallocate()
    }

    /// Queues ChannelData (unpadded: this is UDP) carrying `payload` to `client`.
    @inline(__always)
    func appendChannelData(channel: UInt16, payload: UnsafeRawBufferPointer, to client: TransportAddress) {
        let start = begin(client)
        arena.writeInteger(channel)
        arena.writeInteger(UInt16(truncatingIfNeeded: payload.count))
        arena.writeBytes(payload)
        finish(start)
    }

    /// Queues a Data indication carrying `payload` from `peer` to `client`.
    @inline(__always)
    func appendDataIndication(
        transactionID: TransactionID, peer: TransportAddress, payload: UnsafeRawBufferPointer, to client: TransportAddress
    ) {
        let start = begin(client)
        let padding = DataIndication.writeHeader(
            transactionID: transactionID, peer: peer, payloadLength: payload.count, into: &arena)
        arena.writeBytes(payload)
        if padding > 0 { arena.writeRepeatingByte(0, count: padding) }
        finish(start)
    }

    /// Queues a finished message (a STUN response) to `client`.
    func append(_ message: ByteBuffer, to client: TransportAddress) {
        let start = begin(client)
        arena.writeImmutableBuffer(message)
        finish(start)
    }

    @inline(__always)
    private func begin(_ client: TransportAddress) -> Int {
        if count == capacity || arena.writerIndex + Self.largestDatagram > Self.arenaSize { flush() }
        datagrams[count].addressLength = withUnsafeMutablePointer(to: &datagrams[count].address) {
            client.write(to: $0, mapToIPv6: mapToIPv6)
        }
        return arena.writerIndex
    }

    @inline(__always)
    private func finish(_ start: Int) {
        offsets[count] = start
        datagrams[count].length = UInt32(arena.writerIndex - start)
        count += 1
    }

    /// Sends what is queued; datagrams the socket cannot take now are dropped, as UDP may.
    func flush() {
        guard count > 0 else { return }
        arena.withUnsafeMutableReadableBytes { bytes in
            for index in 0..<count {
                datagrams[index].bytes = bytes.baseAddress! + offsets[index]
            }
            _ = cdio_send(socket.descriptor, datagrams, Int32(count))
        }
        count = 0
        arena.clear()
    }
}
