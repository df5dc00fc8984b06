"""wasi:filesystem and wasi:sockets, defined so that guests link, granting nothing.

No directory is preopened, so no descriptor can ever exist; every socket is refused with
`access-denied`. Functions on resources that cannot exist are left to the linker's traps.
"""

from __future__ import annotations

from ..linking import HostInterface, WitErr, wit
from ..resources import Resource

__all__ = ["SANDBOX_INTERFACES"]

DENIED = "access-denied"


class Network(Resource):
    wit_resource = "wasi:sockets/network#network"


class FilesystemTypes(HostInterface):
    interface = "wasi:filesystem/types"
    version = "0.2.0"

    @wit("filesystem-error-code")
    def filesystem_error_code(self, _err: object) -> None:
        return None


class Preopens(HostInterface):
    interface = "wasi:filesystem/preopens"
    version = "0.2.0"

    @wit("get-directories")
    def get_directories(self) -> list[object]:
        return []


class SocketsNetwork(HostInterface):
    interface = "wasi:sockets/network"
    version = "0.2.0"


class InstanceNetwork(HostInterface):
    interface = "wasi:sockets/instance-network"
    version = "0.2.0"

    @wit("instance-network")
    def instance_network(self) -> Network:
        return Network()


class Tcp(HostInterface):
    interface = "wasi:sockets/tcp"
    version = "0.2.0"


class Udp(HostInterface):
    interface = "wasi:sockets/udp"
    version = "0.2.0"


class TcpCreateSocket(HostInterface):
    interface = "wasi:sockets/tcp-create-socket"
    version = "0.2.0"

    @wit("create-tcp-socket")
    def create_tcp_socket(self, _family: str) -> object:
        raise WitErr(DENIED)


class UdpCreateSocket(HostInterface):
    interface = "wasi:sockets/udp-create-socket"
    version = "0.2.0"

    @wit("create-udp-socket")
    def create_udp_socket(self, _family: str) -> object:
        raise WitErr(DENIED)


class IpNameLookup(HostInterface):
    interface = "wasi:sockets/ip-name-lookup"
    version = "0.2.0"

    @wit("resolve-addresses")
    def resolve_addresses(self, _network: Network, _name: str) -> object:
        raise WitErr(DENIED)


SANDBOX_INTERFACES: tuple[type[HostInterface], ...] = (
    FilesystemTypes,
    Preopens,
    SocketsNetwork,
    InstanceNetwork,
    Tcp,
    Udp,
    TcpCreateSocket,
    UdpCreateSocket,
    IpNameLookup,
)
