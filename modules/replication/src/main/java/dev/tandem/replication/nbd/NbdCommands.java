package dev.tandem.replication.nbd;

import static dev.tandem.replication.nbd.NbdProtocol.CMD_FLUSH;
import static dev.tandem.replication.nbd.NbdProtocol.CMD_READ;
import static dev.tandem.replication.nbd.NbdProtocol.CMD_TRIM;
import static dev.tandem.replication.nbd.NbdProtocol.CMD_WRITE;
import static dev.tandem.replication.nbd.NbdProtocol.CMD_WRITE_ZEROES;
import static dev.tandem.replication.nbd.NbdProtocol.EINVAL;
import static dev.tandem.replication.nbd.NbdProtocol.EIO;
import static dev.tandem.replication.nbd.NbdProtocol.EPERM;
import static dev.tandem.replication.nbd.NbdProtocol.MAX_BLOCK_SIZE;

import java.io.IOException;
import java.nio.ByteBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries out one request against an export and turns the outcome into a reply. Runs on worker
 * threads, so several requests of one connection may be inside the export at once.
 */
final class NbdCommands {
    private static final Logger log = LoggerFactory.getLogger(NbdCommands.class);

    /** Shared source for WRITE_ZEROES; read-only so no export can spoil it for the next caller. */
    private static final ByteBuffer ZEROES = ByteBuffer.allocate(1024 * 1024).asReadOnlyBuffer();

    private final NbdExport export;
    private final String peer;

    NbdCommands(NbdExport export, String peer) {
        this.export = export;
        this.peer = peer;
    }

    /** @param payload the data of a WRITE, null for every other command */
    NbdReply execute(NbdRequest request, byte[] payload) {
        try {
            return switch (request.type()) {
                case CMD_READ -> read(request);
                case CMD_WRITE -> write(request, payload);
                case CMD_FLUSH -> flush();
                case CMD_TRIM -> trim(request);
                case CMD_WRITE_ZEROES -> writeZeroes(request);
                default -> refuse(request, EINVAL, "unknown command");
            };
        } catch (IOException e) {
            log.debug("{}: {} failed in export {}: {}", peer, request, export.name(), e.toString());
            return NbdReply.error(EIO);
        } catch (RuntimeException e) {
            log.warn("{}: {} failed in export {}", peer, request, export.name(), e);
            return NbdReply.error(EIO);
        }
    }

    private NbdReply read(NbdRequest request) throws IOException {
        if (request.length() > MAX_BLOCK_SIZE || !inBounds(request)) {
            return refuse(request, EINVAL, "out of range");
        }
        ByteBuffer data = ByteBuffer.allocate((int) request.length());
        export.read(request.offset(), data);
        if (data.hasRemaining()) {
            // sending the unfilled tail would hand the client zeroes it never wrote
            throw new IOException("export left " + data.remaining() + " bytes unread");
        }
        return NbdReply.data(data.array());
    }

    private NbdReply write(NbdRequest request, byte[] payload) throws IOException {
        if (export.readOnly()) {
            return refuse(request, EPERM, "export is read-only");
        }
        if (!inBounds(request)) {
            return refuse(request, EINVAL, "out of range");
        }
        export.write(request.offset(), ByteBuffer.wrap(payload), request.fua());
        return NbdReply.ok();
    }

    /**
     * Needs no barrier against concurrent writes: a write is answered only after export.write has
     * returned, so every write the client saw answered before sending this flush is complete, which
     * is all that export.flush covers and all the protocol asks.
     */
    private NbdReply flush() throws IOException {
        export.flush();
        return NbdReply.ok();
    }

    private NbdReply trim(NbdRequest request) throws IOException {
        if (export.readOnly()) {
            return refuse(request, EPERM, "export is read-only");
        }
        // no size cap: clients send discards far larger than the maximum block size
        if (!inBounds(request)) {
            return refuse(request, EINVAL, "out of range");
        }
        export.trim(request.offset(), request.length());
        if (request.fua()) {
            export.flush();
        }
        return NbdReply.ok();
    }

    /** Written as plain zeroes, so NO_HOLE is always honoured and FAST_ZERO is never advertised. */
    private NbdReply writeZeroes(NbdRequest request) throws IOException {
        if (export.readOnly()) {
            return refuse(request, EPERM, "export is read-only");
        }
        if (request.length() > MAX_BLOCK_SIZE || !inBounds(request)) {
            return refuse(request, EINVAL, "out of range");
        }
        long offset = request.offset();
        long end = offset + request.length();
        while (offset < end) {
            int chunk = (int) Math.min(end - offset, ZEROES.capacity());
            export.write(offset, ZEROES.slice(0, chunk), request.fua());
            offset += chunk;
        }
        return NbdReply.ok();
    }

    private boolean inBounds(NbdRequest request) {
        return request.offset() >= 0 && request.length() <= export.size() - request.offset();
    }

    private NbdReply refuse(NbdRequest request, int error, String why) {
        log.debug("{}: refusing {} on export {}: {}", peer, request, export.name(), why);
        return NbdReply.error(error);
    }
}
