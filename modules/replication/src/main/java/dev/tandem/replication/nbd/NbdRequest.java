package dev.tandem.replication.nbd;

import java.io.DataInputStream;
import java.io.IOException;

/** One transmission-phase request header; a write's payload follows it on the wire. */
record NbdRequest(int flags, int type, long handle, long offset, long length) {

    static NbdRequest read(DataInputStream in) throws IOException {
        int magic = in.readInt();
        if (magic != NbdProtocol.REQUEST_MAGIC) {
            throw new NbdProtocolException(String.format("bad request magic 0x%08x", magic));
        }
        int flags = in.readUnsignedShort();
        int type = in.readUnsignedShort();
        long handle = in.readLong();
        long offset = in.readLong(); // unsigned on the wire: a negative value is simply out of range
        long length = Integer.toUnsignedLong(in.readInt());
        return new NbdRequest(flags, type, handle, offset, length);
    }

    boolean fua() {
        return (flags & NbdProtocol.CMD_FLAG_FUA) != 0;
    }

    @Override
    public String toString() {
        return command() + "(flags=" + flags + ", offset=" + Long.toUnsignedString(offset) + ", length=" + length + ")";
    }

    private String command() {
        return switch (type) {
            case NbdProtocol.CMD_READ -> "READ";
            case NbdProtocol.CMD_WRITE -> "WRITE";
            case NbdProtocol.CMD_DISC -> "DISC";
            case NbdProtocol.CMD_FLUSH -> "FLUSH";
            case NbdProtocol.CMD_TRIM -> "TRIM";
            case NbdProtocol.CMD_WRITE_ZEROES -> "WRITE_ZEROES";
            default -> "command " + type;
        };
    }
}
