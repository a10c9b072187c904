package dev.tandem.replication.nbd;

import java.io.DataOutputStream;
import java.io.IOException;

/**
 * Writes simple replies for the worker threads of one connection. Replies leave in completion
 * order; the client matches them to requests by handle, so only whole replies must not interleave.
 */
final class NbdReplySender {
    private final DataOutputStream out;

    NbdReplySender(DataOutputStream out) {
        this.out = out;
    }

    void send(long handle, NbdReply reply) throws IOException {
        synchronized (out) {
            out.writeInt(NbdProtocol.SIMPLE_REPLY_MAGIC);
            out.writeInt(reply.error());
            out.writeLong(handle);
            if (reply.data() != null) {
                out.write(reply.data());
            }
            out.flush();
        }
    }
}
