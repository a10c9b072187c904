package dev.tandem.proxy.http;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One line per request in a file of its own, written by one background thread: a request thread only
 * queues its line and never waits on the disk. When the disk falls behind, lines are dropped and counted.
 */
final class AccessLog implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AccessLog.class);
    private static final int QUEUE = 64 * 1024;

    private final Path file;
    private final BlockingQueue<String> lines = new ArrayBlockingQueue<>(QUEUE);
    private final AtomicLong dropped = new AtomicLong();
    private final Thread writer;
    private volatile boolean closed;

    AccessLog(Path file) {
        this.file = file;
        this.writer = new Thread(this::writeLoop, "proxy-access-log");
        writer.setDaemon(true);
        writer.start();
    }

    void log(String line) {
        if (!lines.offer(line)) dropped.incrementAndGet();
    }

    private void writeLoop() {
        List<String> batch = new ArrayList<>();
        while (!closed || !lines.isEmpty()) {
            try (BufferedWriter out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
                while (!closed || !lines.isEmpty()) {
                    String first = lines.poll(500, TimeUnit.MILLISECONDS);
                    if (first == null) continue;
                    batch.add(first);
                    lines.drainTo(batch, 4096);
                    for (String line : batch) out.write(line);
                    batch.clear();
                    long lost = dropped.getAndSet(0);
                    if (lost > 0) out.write(Instant.now() + " access log fell behind: " + lost + " lines dropped\n");
                    if (lines.isEmpty()) out.flush();
                }
            } catch (InterruptedException e) {
                return;
            } catch (IOException e) {
                LOG.warn("cannot write the access log {}: {}; retrying in 5 s", file, e.toString());
                batch.clear();
                try {
                    Thread.sleep(5000);
                } catch (InterruptedException stop) {
                    return;
                }
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            writer.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
