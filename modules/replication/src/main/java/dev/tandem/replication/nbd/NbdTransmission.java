package dev.tandem.replication.nbd;

import static dev.tandem.replication.nbd.NbdProtocol.CMD_DISC;
import static dev.tandem.replication.nbd.NbdProtocol.CMD_READ;
import static dev.tandem.replication.nbd.NbdProtocol.CMD_WRITE;
import static dev.tandem.replication.nbd.NbdProtocol.MAX_BLOCK_SIZE;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.util.concurrent.Executor;
import java.util.concurrent.Semaphore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The transmission phase of one connection. The calling thread only parses requests; each one is
 * carried out on a worker, since an export's write may wait for a replication peer and must not
 * hold up the requests queued behind it.
 */
final class NbdTransmission {
    private static final Logger log = LoggerFactory.getLogger(NbdTransmission.class);

    /** qemu keeps up to 16 requests in flight; more buys nothing but memory. */
    static final int MAX_IN_FLIGHT_REQUESTS = 16;

    /** Caps the buffers one connection pins: sixteen maximum-size requests would be 512 MiB. */
    static final int MAX_IN_FLIGHT_BYTES = 2 * MAX_BLOCK_SIZE;

    private final DataInputStream in;
    private final NbdReplySender replies;
    private final NbdCommands commands;
    private final Executor workers;
    private final Runnable abort;
    private final String peer;
    private final Semaphore requestSlots = new Semaphore(MAX_IN_FLIGHT_REQUESTS);
    private final Semaphore bufferBytes = new Semaphore(MAX_IN_FLIGHT_BYTES);

    /** @param abort drops the connection at once; used when a reply can no longer be delivered */
    NbdTransmission(DataInputStream in, NbdReplySender replies, NbdExport export, Executor workers,
            Runnable abort, String peer) {
        this.in = in;
        this.replies = replies;
        this.commands = new NbdCommands(export, peer);
        this.workers = workers;
        this.abort = abort;
        this.peer = peer;
    }

    /**
     * Serves requests until the client disconnects. Returns normally after NBD_CMD_DISC or end of
     * stream, once every request already read has been answered; throws when the stream is broken
     * or malformed, leaving in-flight requests to the caller.
     */
    void serve() throws IOException, InterruptedException {
        while (true) {
            NbdRequest request;
            try {
                request = NbdRequest.read(in);
            } catch (EOFException e) {
                log.debug("{}: client closed the connection without NBD_CMD_DISC", peer);
                break;
            }
            if (request.type() == CMD_DISC) {
                log.debug("{}: client disconnects", peer);
                break;
            }
            if (request.type() == CMD_WRITE && request.length() > MAX_BLOCK_SIZE) {
                // the payload cannot be accepted, and skipping it would let a client make us read forever
                throw new NbdProtocolException("write payload of " + request.length() + " bytes");
            }
            dispatch(request);
        }
        requestSlots.acquire(MAX_IN_FLIGHT_REQUESTS);
        requestSlots.release(MAX_IN_FLIGHT_REQUESTS);
    }

    /** Blocks while the connection is at its in-flight limit, which pushes back on the client through TCP. */
    private void dispatch(NbdRequest request) throws IOException, InterruptedException {
        int bytes = bufferSize(request);
        requestSlots.acquire();
        try {
            bufferBytes.acquire(bytes);
        } catch (InterruptedException e) {
            requestSlots.release();
            throw e;
        }
        try {
            byte[] payload = null;
            if (request.type() == CMD_WRITE) {
                payload = new byte[bytes];
                in.readFully(payload);
            }
            byte[] data = payload;
            workers.execute(() -> execute(request, data, bytes));
        } catch (IOException | RuntimeException e) {
            release(bytes);
            throw e;
        }
    }

    private void execute(NbdRequest request, byte[] payload, int bytes) {
        try {
            replies.send(request.handle(), commands.execute(request, payload));
        } catch (IOException e) {
            log.debug("{}: cannot send reply: {}", peer, e.toString());
            abort.run();
        } finally {
            release(bytes);
        }
    }

    private void release(int bytes) {
        bufferBytes.release(bytes);
        requestSlots.release();
    }

    /** The payload of a write, or the data of a read that will be answered with data. */
    private static int bufferSize(NbdRequest request) {
        boolean carriesData = request.type() == CMD_WRITE || request.type() == CMD_READ;
        return carriesData && request.length() <= MAX_BLOCK_SIZE ? (int) request.length() : 0;
    }
}
