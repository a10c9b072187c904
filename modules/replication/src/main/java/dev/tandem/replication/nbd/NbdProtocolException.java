package dev.tandem.replication.nbd;

import java.io.IOException;

/** The peer broke the protocol in a way that leaves no choice but to drop the connection. */
final class NbdProtocolException extends IOException {
    private static final long serialVersionUID = 1L;

    NbdProtocolException(String message) {
        super(message);
    }
}
