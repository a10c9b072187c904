package dev.tandem.replication.nbd;

/**
 * Wire constants of the NBD protocol (doc/proto.md of NetworkBlockDevice/nbd), limited to what this
 * server speaks: fixed newstyle negotiation and simple replies. All values are big-endian on the wire.
 */
final class NbdProtocol {
    private NbdProtocol() {
    }

    // magic numbers
    static final long NBDMAGIC = 0x4e42444d41474943L;
    static final long IHAVEOPT = 0x49484156454F5054L;
    static final long OPTION_REPLY_MAGIC = 0x3e889045565a9L;
    static final int REQUEST_MAGIC = 0x25609513;
    static final int SIMPLE_REPLY_MAGIC = 0x67446698;

    // handshake flags (server, 16 bits) and client flags (32 bits)
    static final int FLAG_FIXED_NEWSTYLE = 1;
    static final int FLAG_NO_ZEROES = 1 << 1;
    static final int FLAG_C_FIXED_NEWSTYLE = 1;
    static final int FLAG_C_NO_ZEROES = 1 << 1;

    // transmission flags (16 bits). CAN_MULTI_CONN (bit 8) is deliberately never sent: a flush on one
    // connection is not promised to cover writes acknowledged on another.
    static final int FLAG_HAS_FLAGS = 1;
    static final int FLAG_READ_ONLY = 1 << 1;
    static final int FLAG_SEND_FLUSH = 1 << 2;
    static final int FLAG_SEND_FUA = 1 << 3;
    static final int FLAG_SEND_TRIM = 1 << 5;
    static final int FLAG_SEND_WRITE_ZEROES = 1 << 6;

    // options
    static final int OPT_EXPORT_NAME = 1;
    static final int OPT_ABORT = 2;
    static final int OPT_LIST = 3;
    static final int OPT_STARTTLS = 5;
    static final int OPT_INFO = 6;
    static final int OPT_GO = 7;
    static final int OPT_STRUCTURED_REPLY = 8;

    // option reply types; errors have bit 31 set
    static final int REP_ACK = 1;
    static final int REP_SERVER = 2;
    static final int REP_INFO = 3;
    static final int REP_ERR_UNSUP = 0x8000_0001;
    static final int REP_ERR_INVALID = 0x8000_0003;
    static final int REP_ERR_UNKNOWN = 0x8000_0006;
    static final int REP_ERR_TOO_BIG = 0x8000_0009;

    // information types of NBD_OPT_INFO / NBD_OPT_GO
    static final int INFO_EXPORT = 0;
    static final int INFO_NAME = 1;
    static final int INFO_BLOCK_SIZE = 3;

    // commands and command flags
    static final int CMD_READ = 0;
    static final int CMD_WRITE = 1;
    static final int CMD_DISC = 2;
    static final int CMD_FLUSH = 3;
    static final int CMD_TRIM = 4;
    static final int CMD_WRITE_ZEROES = 6;
    static final int CMD_FLAG_FUA = 1;

    // error values of simple replies (fixed by the protocol, not the host's errno)
    static final int EPERM = 1;
    static final int EIO = 5;
    static final int EINVAL = 22;

    // advertised block size constraints; the maximum is also the largest payload accepted at all
    static final int MIN_BLOCK_SIZE = 1;
    static final int PREFERRED_BLOCK_SIZE = 4096;
    static final int MAX_BLOCK_SIZE = 32 * 1024 * 1024;

    /** Export names and info requests are tiny; anything larger is a confused or hostile client. */
    static final int MAX_OPTION_LENGTH = 64 * 1024;
}
