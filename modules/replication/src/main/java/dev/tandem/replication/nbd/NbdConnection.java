package dev.tandem.replication.nbd;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client from accept to close: its reader thread runs the handshake and then the transmission
 * phase, and it owns the workers that carry out that client's requests. However the connection
 * ends, the socket is closed and every thread it started has ended before {@code onEnd} is told.
 */
final class NbdConnection {
    private static final Logger log = LoggerFactory.getLogger(NbdConnection.class);

    /** A client that connects and then says nothing must not hold a thread forever. */
    private static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(30);

    /** How long export calls get to notice an interrupt when the server closes. */
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);

    private static final Duration WORKER_IDLE = Duration.ofSeconds(30);

    private final Socket socket;
    private final NbdExports exports;
    private final Consumer<NbdConnection> onEnd;
    private final String peer;
    private final Thread reader;
    private final ThreadPoolExecutor workers;
    private volatile boolean closing;

    NbdConnection(Socket socket, NbdExports exports, Consumer<NbdConnection> onEnd) {
        this.socket = socket;
        this.exports = exports;
        this.onEnd = onEnd;
        this.peer = describe(socket.getRemoteSocketAddress());
        this.reader = new Thread(this::run, "nbd-conn-" + peer);
        this.reader.setDaemon(true);
        this.workers = new ThreadPoolExecutor(NbdTransmission.MAX_IN_FLIGHT_REQUESTS,
                NbdTransmission.MAX_IN_FLIGHT_REQUESTS, WORKER_IDLE.toMillis(), TimeUnit.MILLISECONDS,
                new LinkedBlockingQueue<>(), workerThreads("nbd-io-" + peer + "-"));
        // an idle connection (qemu keeps one open for the life of a VM) should hold no workers
        this.workers.allowCoreThreadTimeOut(true);
    }

    void start() {
        reader.start();
    }

    /** Hard disconnect, for server shutdown: unblocks the reader and interrupts export calls. */
    void close() {
        closing = true;
        closeSocket();
        workers.shutdownNow();
        reader.interrupt();
    }

    /** @return whether the connection and all its threads have ended */
    boolean awaitEnd(Duration timeout) throws InterruptedException {
        reader.join(Math.max(1, timeout.toMillis()));
        return !reader.isAlive();
    }

    String peer() {
        return peer;
    }

    private void run() {
        log.debug("{}: connected", peer);
        try {
            DataInputStream in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), 64 * 1024));
            DataOutputStream out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream(), 64 * 1024));
            socket.setSoTimeout((int) HANDSHAKE_TIMEOUT.toMillis());
            Optional<NbdExport> export = new NbdHandshake(in, out, exports, peer).negotiate();
            if (export.isPresent()) {
                socket.setSoTimeout(0); // an idle block device is normal
                new NbdTransmission(in, new NbdReplySender(out), export.get(), workers, this::closeSocket, peer)
                        .serve();
            }
        } catch (NbdProtocolException e) {
            log.info("{}: dropping client: {}", peer, e.getMessage());
        } catch (SocketTimeoutException e) {
            log.info("{}: dropping client: handshake not completed within {}", peer, HANDSHAKE_TIMEOUT);
        } catch (IOException | InterruptedException e) {
            if (!closing) {
                log.debug("{}: connection lost: {}", peer, e.toString());
            }
        } catch (RuntimeException e) {
            if (closing) {
                log.debug("{}: failed while closing: {}", peer, e.toString());
            } else {
                log.warn("{}: connection failed", peer, e);
            }
        } finally {
            // on a protocol error or lost connection this closes first, so pending replies fail fast
            closeSocket();
            stopWorkers();
            log.debug("{}: closed", peer);
            onEnd.accept(this);
        }
    }

    private void stopWorkers() {
        workers.shutdown();
        try {
            // a replicated write may rightly wait a long time for its peer; only close() cuts that short
            while (!closing) {
                if (workers.awaitTermination(1, TimeUnit.MINUTES)) {
                    return;
                }
                log.info("{}: still waiting for {} export operations to finish", peer, workers.getActiveCount());
            }
        } catch (InterruptedException e) {
            // close() interrupted us: fall through to the bounded stop
        }
        workers.shutdownNow();
        Thread.interrupted(); // the interrupt from close() has done its job; don't let it cut the wait below
        try {
            if (!workers.awaitTermination(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                log.warn("{}: {} export operations ignored the interrupt; leaving them behind",
                        peer, workers.getActiveCount());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void closeSocket() {
        try {
            socket.close();
        } catch (IOException e) {
            log.debug("{}: close failed: {}", peer, e.toString());
        }
    }

    private static String describe(SocketAddress address) {
        if (address instanceof InetSocketAddress inet && inet.getAddress() != null) {
            return inet.getAddress().getHostAddress() + ":" + inet.getPort();
        }
        return String.valueOf(address);
    }

    private static ThreadFactory workerThreads(String prefix) {
        AtomicInteger counter = new AtomicInteger();
        return task -> {
            Thread thread = new Thread(task, prefix + counter.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }
}
