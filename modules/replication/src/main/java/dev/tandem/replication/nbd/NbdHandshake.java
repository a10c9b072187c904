package dev.tandem.replication.nbd;

import static dev.tandem.replication.nbd.NbdProtocol.*;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fixed newstyle negotiation of one connection: greets the client, answers its options and
 * ends with the export to serve. Any breach of the protocol surfaces as {@link NbdProtocolException}.
 */
final class NbdHandshake {
    private static final Logger log = LoggerFactory.getLogger(NbdHandshake.class);

    /** Real clients need a handful; a client that keeps asking is wasting a thread. */
    private static final int MAX_OPTIONS = 128;

    private static final int KNOWN_CLIENT_FLAGS = FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES;

    private final DataInputStream in;
    private final DataOutputStream out;
    private final NbdExports exports;
    private final String peer;
    private boolean noZeroes;

    NbdHandshake(DataInputStream in, DataOutputStream out, NbdExports exports, String peer) {
        this.in = in;
        this.out = out;
        this.exports = exports;
        this.peer = peer;
    }

    /** @return the export chosen by the client, or empty when it ended the negotiation with NBD_OPT_ABORT */
    Optional<NbdExport> negotiate() throws IOException {
        out.writeLong(NBDMAGIC);
        out.writeLong(IHAVEOPT);
        out.writeShort(FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES);
        out.flush();

        int clientFlags = in.readInt();
        if ((clientFlags & ~KNOWN_CLIENT_FLAGS) != 0) {
            throw new NbdProtocolException(String.format("unknown client flags 0x%08x", clientFlags));
        }
        if ((clientFlags & FLAG_C_FIXED_NEWSTYLE) == 0) {
            throw new NbdProtocolException("client does not speak fixed newstyle negotiation");
        }
        noZeroes = (clientFlags & FLAG_C_NO_ZEROES) != 0;

        for (int count = 0; count < MAX_OPTIONS; count++) {
            long magic = in.readLong();
            if (magic != IHAVEOPT) {
                throw new NbdProtocolException(String.format("bad option magic 0x%016x", magic));
            }
            int option = in.readInt();
            long length = Integer.toUnsignedLong(in.readInt());
            if (length > MAX_OPTION_LENGTH) {
                // skipping the data could mean gigabytes; say why (where the option allows it) and drop
                if (option != OPT_EXPORT_NAME) {
                    error(option, REP_ERR_TOO_BIG, "option data too long");
                }
                throw new NbdProtocolException("option " + option + " carries " + length + " bytes");
            }
            byte[] data = new byte[(int) length];
            in.readFully(data);

            switch (option) {
                case OPT_EXPORT_NAME:
                    return Optional.of(exportName(data));
                case OPT_ABORT:
                    abort();
                    return Optional.empty();
                case OPT_LIST:
                    list(data);
                    break;
                case OPT_INFO:
                    info(option, data);
                    break;
                case OPT_GO:
                    Optional<NbdExport> chosen = info(option, data);
                    if (chosen.isPresent()) {
                        return chosen;
                    }
                    break;
                default:
                    // includes STRUCTURED_REPLY: simple replies serve qemu and the kernel well, and
                    // without them no block-status machinery is needed
                    error(option, REP_ERR_UNSUP, "option " + option + " is not supported");
            }
        }
        throw new NbdProtocolException("more than " + MAX_OPTIONS + " options");
    }

    /** The old way into transmission: no error reply is possible, so an unknown name ends the session. */
    private NbdExport exportName(byte[] data) throws IOException {
        String name = new String(data, StandardCharsets.UTF_8);
        NbdExport export = resolve(name)
                .orElseThrow(() -> new NbdProtocolException("no export named '" + name + "'"));
        out.writeLong(export.size());
        out.writeShort(transmissionFlags(export));
        if (!noZeroes) {
            out.write(new byte[124]);
        }
        out.flush();
        log.debug("{}: serving export {} (NBD_OPT_EXPORT_NAME)", peer, export.name());
        return export;
    }

    private void abort() {
        try {
            reply(OPT_ABORT, REP_ACK, new byte[0]);
        } catch (IOException e) {
            // the client may hang up without waiting for the acknowledgement
            log.debug("{}: could not acknowledge abort: {}", peer, e.toString());
        }
    }

    private void list(byte[] data) throws IOException {
        if (data.length != 0) {
            error(OPT_LIST, REP_ERR_INVALID, "NBD_OPT_LIST takes no data");
            return;
        }
        List<String> names = exports.names();
        for (String name : names) {
            byte[] utf8 = name.getBytes(StandardCharsets.UTF_8);
            reply(OPT_LIST, REP_SERVER, ByteBuffer.allocate(4 + utf8.length).putInt(utf8.length).put(utf8).array());
        }
        reply(OPT_LIST, REP_ACK, new byte[0]);
    }

    /** NBD_OPT_INFO and NBD_OPT_GO share request and reply; only GO moves on to transmission. */
    private Optional<NbdExport> info(int option, byte[] data) throws IOException {
        String name;
        Set<Integer> requested = new HashSet<>();
        try {
            ByteBuffer request = ByteBuffer.wrap(data);
            int nameLength = request.getInt();
            if (nameLength < 0 || nameLength > data.length - 6) {
                error(option, REP_ERR_INVALID, "name length exceeds the option data");
                return Optional.empty();
            }
            byte[] utf8 = new byte[nameLength];
            request.get(utf8);
            name = new String(utf8, StandardCharsets.UTF_8);
            int count = Short.toUnsignedInt(request.getShort());
            if (request.remaining() != 2 * count) {
                error(option, REP_ERR_INVALID, "information request count does not match the option length");
                return Optional.empty();
            }
            for (int i = 0; i < count; i++) {
                requested.add(Short.toUnsignedInt(request.getShort()));
            }
        } catch (BufferUnderflowException e) {
            error(option, REP_ERR_INVALID, "option data too short");
            return Optional.empty();
        }

        Optional<NbdExport> found = resolve(name);
        if (found.isEmpty()) {
            error(option, REP_ERR_UNKNOWN, "no export named '" + name + "'");
            return Optional.empty();
        }
        NbdExport export = found.get();
        reply(option, REP_INFO, ByteBuffer.allocate(12)
                .putShort((short) INFO_EXPORT).putLong(export.size()).putShort((short) transmissionFlags(export))
                .array());
        if (requested.contains(INFO_NAME)) {
            byte[] canonical = export.name().getBytes(StandardCharsets.UTF_8);
            reply(option, REP_INFO, ByteBuffer.allocate(2 + canonical.length)
                    .putShort((short) INFO_NAME).put(canonical).array());
        }
        // sent unasked too: the spec allows it, and a client that did not ask may ignore it
        reply(option, REP_INFO, ByteBuffer.allocate(14)
                .putShort((short) INFO_BLOCK_SIZE)
                .putInt(MIN_BLOCK_SIZE).putInt(PREFERRED_BLOCK_SIZE).putInt(MAX_BLOCK_SIZE)
                .array());
        reply(option, REP_ACK, new byte[0]);
        if (option != OPT_GO) {
            return Optional.empty();
        }
        log.debug("{}: serving export {} (NBD_OPT_GO)", peer, export.name());
        return found;
    }

    /** The empty name is the protocol's "default export"; here that means the only export, if there is one. */
    private Optional<NbdExport> resolve(String name) {
        Optional<NbdExport> found = exports.find(name);
        if (found.isEmpty() && name.isEmpty()) {
            List<String> names = exports.names();
            if (names.size() == 1) {
                found = exports.find(names.get(0));
            }
        }
        return found;
    }

    private static int transmissionFlags(NbdExport export) {
        int flags = FLAG_HAS_FLAGS | FLAG_SEND_FLUSH | FLAG_SEND_FUA | FLAG_SEND_TRIM | FLAG_SEND_WRITE_ZEROES;
        return export.readOnly() ? flags | FLAG_READ_ONLY : flags;
    }

    private void error(int option, int type, String message) throws IOException {
        log.debug("{}: option {} refused: {}", peer, option, message);
        reply(option, type, message.getBytes(StandardCharsets.UTF_8));
    }

    private void reply(int option, int type, byte[] data) throws IOException {
        out.writeLong(OPTION_REPLY_MAGIC);
        out.writeInt(option);
        out.writeInt(type);
        out.writeInt(data.length);
        out.write(data);
        out.flush();
    }
}
