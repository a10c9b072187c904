package dev.tandem.replication.nbd;

import java.util.Optional;

/** Finds the server's threads by the names it gives them. */
final class NbdThreads {
    private NbdThreads() {
    }

    /** Live threads named "nbd-...". */
    static long count() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(thread -> thread.isAlive() && thread.getName().startsWith("nbd-"))
                .count();
    }

    /** The reader thread of the only connection, if there is one. */
    static Optional<Thread> reader() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(thread -> thread.isAlive() && thread.getName().startsWith("nbd-conn-"))
                .findFirst();
    }
}
