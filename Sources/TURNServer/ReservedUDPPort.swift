import STUNProtocol
import Synchronization
import TURNCore

/// A socket bound on the port an EVEN-PORT allocation reserved (port+1), so no other process can take it before the
/// RESERVATION-TOKEN is redeemed, as coturn does. It receives nothing anyone reads; the registry closes it when
/// the reservation ends, just before a redeeming allocation binds the port for real.
final class ReservedUDPPort: ReservedPortHold {
    private let descriptor: Atomic<Int32>

    private init(_ socket: UDPSocket) {
        descriptor = Atomic(socket.descriptor)
    }

    /// Binds `address` (plainly: no SO_REUSEADDR or SO_REUSEPORT, so nobody shares it).
    static func bind(_ address: TransportAddress) throws(UDPSocket.Failure) -> ReservedUDPPort {
        ReservedUDPPort(try UDPSocket.bound(to: address))
    }

    func release() {
        let held = descriptor.exchange(-1, ordering: .relaxed)
        if held >= 0 { UDPSocket(descriptor: held).close() }
    }

    deinit {
        release()
    }
}

extension TransportAddress {
    /// The reserved half of an EVEN-PORT pair: the same address, the next port.
    var nextPort: TransportAddress { TransportAddress(ip: ip, port: port + 1) }
}
