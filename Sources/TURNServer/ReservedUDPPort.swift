import STUNProtocol
import Synchronization
import TURNCore

/// A socket bound on the port an EVEN-PORT allocation reserved (port+1), so no other process can take it before the
/// RESERVATION-TOKEN is redeemed, as coturn does. The redeeming allocation adopts it as its relay socket, so the port
/// is never free in between; a reservation that ends otherwise closes it. Until then nobody reads it, so its receive
/// buffer is the smallest the kernel allows.
final class ReservedUDPPort: ReservedPortHold {
    private let descriptor: Atomic<Int32>

    private init(_ socket: UDPSocket) {
        descriptor = Atomic(socket.descriptor)
    }

    /// Binds `address` (plainly: no SO_REUSEADDR or SO_REUSEPORT, so nobody shares it).
    static func bind(_ address: TransportAddress) throws(UDPSocket.Failure) -> ReservedUDPPort {
        ReservedUDPPort(try UDPSocket.bound(to: address, receiveBuffer: 1))
    }

    /// Takes the socket over (it is no longer this hold's to close); `nil` once released or adopted.
    func adopt() -> UDPSocket? {
        let held = descriptor.exchange(-1, ordering: .relaxed)
        return held >= 0 ? UDPSocket(descriptor: held) : nil
    }

    func release() {
        adopt()?.close()
    }

    deinit {
        release()
    }
}

extension TransportAddress {
    /// The reserved half of an EVEN-PORT pair: the same address, the next port.
    var nextPort: TransportAddress { TransportAddress(ip: ip, port: port + 1) }
}
