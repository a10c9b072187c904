package dev.tandem.proxy.http;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One line per request in a file of its own. A request thread only queues the raw facts (no
 * formatting, no lock); one background thread formats and writes them. When the disk falls behind,
 * entries are dropped and counted, and requests never wait.
 */
final class AccessLog implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AccessLog.class);
    private static final int MAX_QUEUED = 64 * 1024;
    private static final DateTimeFormatter SECOND = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss").withZone(ZoneOffset.UTC);

    /** What one line says; {@code member} and {@code retriedFrom} may be null. */
    record Entry(long epochMillis, String client, String method, String host, String pathQuery, String protocol, int status, long bytes,
            long micros, String member, String memberAddress, String retriedFrom) {}

    private final Path file;
    private final ConcurrentLinkedQueue<Entry> entries = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queued = new AtomicInteger();
    private final AtomicLong dropped = new AtomicLong();
    private final Thread writer;
    private final StringBuilder line = new StringBuilder(256);
    private long cachedSecond = -1;
    private String cachedSecondText;
    private volatile boolean closed;

    AccessLog(Path file) {
        this.file = file;
        this.writer = new Thread(this::writeLoop, "proxy-access-log");
        writer.setDaemon(true);
        writer.start();
    }

    void log(Entry entry) {
        if (queued.incrementAndGet() > MAX_QUEUED) {
            queued.decrementAndGet();
            dropped.incrementAndGet();
            return;
        }
        entries.offer(entry);
    }

    private void writeLoop() {
        while (!closed || !entries.isEmpty()) {
            try (BufferedWriter out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
                while (!closed || !entries.isEmpty()) {
                    Entry e = entries.poll();
                    if (e == null) {
                        out.flush();
                        LockSupport.parkNanos(50_000_000L); // a batch every 50 ms at most: the disk, not each request, sets the pace
                        continue;
                    }
                    queued.decrementAndGet();
                    out.append(format(e));
                    long lost = dropped.getAndSet(0);
                    if (lost > 0) out.append(Instant.now().toString()).append(" access log fell behind: ").append(String.valueOf(lost)).append(" lines dropped\n");
                }
                out.flush();
            } catch (IOException e) {
                LOG.warn("cannot write the access log {}: {}; retrying in 5 s", file, e.toString());
                LockSupport.parkNanos(5_000_000_000L);
            }
        }
    }

    /** {@code TIME CLIENT "METHOD HOST PATH PROTOCOL" STATUS BYTES DURATION POOL/MEMBER ADDRESS [retried after POOL/MEMBER]} */
    private CharSequence format(Entry e) {
        line.setLength(0);
        long second = Math.floorDiv(e.epochMillis(), 1000);
        if (second != cachedSecond) {
            cachedSecond = second;
            cachedSecondText = SECOND.format(Instant.ofEpochSecond(second));
        }
        line.append(cachedSecondText).append('.');
        pad3(Math.floorMod(e.epochMillis(), 1000));
        line.append("Z ").append(e.client()).append(" \"").append(e.method()).append(' ').append(e.host()).append(' ')
                .append(e.pathQuery()).append(' ').append(e.protocol()).append("\" ")
                .append(e.status()).append(' ').append(e.bytes()).append(' ')
                .append(e.micros() / 1000).append('.');
        pad3(e.micros() % 1000);
        line.append("ms ");
        if (e.member() == null) {
            line.append('-');
        } else {
            line.append(e.member()).append(' ').append(e.memberAddress());
            if (e.retriedFrom() != null) line.append(" retried after ").append(e.retriedFrom());
        }
        return line.append('\n');
    }

    private void pad3(long n) {
        if (n < 100) line.append('0');
        if (n < 10) line.append('0');
        line.append(n);
    }

    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(writer);
        try {
            writer.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
