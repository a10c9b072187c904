package dev.tandem.replication.nbd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** End to end with the real qemu-io and qemu-img as clients. */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class NbdServerQemuTest {
    private static final int SIZE = 16 * 1024 * 1024;
    private static final int MIB = 1024 * 1024;

    private MemoryExport disk;
    private NbdServer server;
    private String url;

    @BeforeAll
    static void requireQemu() {
        assumeTrue(Qemu.available(), "qemu-io / qemu-img not on PATH: skipping the end-to-end tests");
    }

    @BeforeEach
    void start() {
        disk = new MemoryExport("disk", SIZE);
        server = NbdServer.start(new InetSocketAddress("127.0.0.1", 0), TestExports.of(disk));
        url = Qemu.url(server, "disk");
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void writesReadsBackAndFlushes() throws Exception {
        Qemu.Result result = Qemu.io(url, "write -P 0xab 0 1M", "read -P 0xab 0 1M", "flush");

        assertSucceeded(result);
        assertThat(disk.snapshot(0, MIB)).containsOnly((byte) 0xab);
        assertThat(disk.snapshot(MIB, 4096)).containsOnly((byte) 0);
        assertThat(disk.calls()).contains("flush");
        assertThat(disk.calls().indexOf("flush")).isGreaterThan(disk.calls().lastIndexOf("write 0 1048576"));
    }

    @Test
    void infoReportsTheSize() throws Exception {
        Qemu.Result result = Qemu.run("qemu-img", "info", "--output=json", url);

        assertSucceeded(result);
        assertThat(result.output()).contains("\"virtual-size\": " + SIZE);
    }

    @Test
    void convertsAnImageInAndOut(@TempDir Path dir) throws Exception {
        byte[] image = new byte[SIZE];
        new Random(42).nextBytes(image);
        Arrays.fill(image, 3 * MIB, 5 * MIB, (byte) 0); // a zero run, which qemu-img sends as WRITE_ZEROES
        Path in = Files.write(dir.resolve("in.raw"), image);
        Path out = dir.resolve("out.raw");
        disk.fill(0, SIZE, (byte) 0xff);

        // -W -m 16: sixteen coroutines writing out of order keep many requests in flight
        assertSucceeded(Qemu.run("qemu-img", "convert", "-n", "-W", "-m", "16", "-f", "raw", "-O", "raw",
                in.toString(), url));
        assertThat(disk.snapshot(0, SIZE)).isEqualTo(image);

        assertSucceeded(Qemu.run("qemu-img", "convert", "-f", "raw", "-O", "raw", url, out.toString()));
        assertThat(Files.readAllBytes(out)).isEqualTo(image);
    }

    @Test
    void forceUnitAccessReachesTheExport() throws Exception {
        assertSucceeded(Qemu.io(url, "write -f -P 0x5a 0 64k"));

        assertThat(disk.calls()).contains("write 0 65536 fua");
        assertThat(disk.snapshot(0, 65536)).containsOnly((byte) 0x5a);
    }

    @Test
    void discardTrims() throws Exception {
        assertSucceeded(Qemu.io(url, "discard 0 1M"));

        assertThat(disk.calls()).contains("trim 0 1048576");
    }

    @Test
    void writeZeroesClearsOnlyItsRange() throws Exception {
        disk.fill(0, SIZE, (byte) 0xff);

        assertSucceeded(Qemu.io(url, "write -z 4096 64k", "read -P 0 4096 64k", "read -P 0xff 0 4096"));

        assertThat(disk.snapshot(4096, 65536)).containsOnly((byte) 0);
        assertThat(disk.snapshot(0, 4096)).containsOnly((byte) 0xff);
        assertThat(disk.snapshot(4096 + 65536, 4096)).containsOnly((byte) 0xff);
    }

    @Test
    void readsPastTheEndAreRefused() throws Exception {
        Qemu.Result result = Qemu.io(url, "read " + (SIZE - 4096) + " 8k");

        assertThat(result.exitCode()).as(result.output()).isNotZero();
        assertThat(result.output()).contains("read failed");
    }

    @Test
    void readOnlyExportRefusesWritesButServesReads() throws Exception {
        disk.readOnly(true);
        disk.fill(0, 4096, (byte) 0x33);

        Qemu.Result write = Qemu.io(url, "write -P 0x44 0 4k");
        Qemu.Result read = Qemu.run("qemu-io", "-r", "-f", "raw", url, "-c", "read -P 0x33 0 4k");

        // qemu sees NBD_FLAG_READ_ONLY and will not even open the export for writing
        assertThat(write.exitCode()).as(write.output()).isNotZero();
        assertThat(write.output()).contains("Permission denied");
        assertThat(disk.snapshot(0, 4096)).containsOnly((byte) 0x33);
        assertThat(disk.calls()).noneMatch(call -> call.startsWith("write"));
        assertSucceeded(read);
    }

    @Test
    void exportTurningReadOnlyMidSessionFailsWritesWithEperm() throws Exception {
        // a demoting primary: the export was writable at the handshake, but no longer is
        disk.hook((operation, offset) -> {
            if (operation.equals("read")) {
                disk.readOnly(true);
            }
        });

        Qemu.Result result = Qemu.io(url, "read 0 4k", "write -P 0x44 0 4k");

        assertThat(result.exitCode()).as(result.output()).isNotZero();
        assertThat(result.output()).contains("write failed: Operation not permitted");
        assertThat(disk.snapshot(0, 4096)).containsOnly((byte) 0);
    }

    @Test
    void unknownExportIsRefused() throws Exception {
        Qemu.Result result = Qemu.io(Qemu.url(server, "nope"), "read 0 4k");

        assertThat(result.exitCode()).as(result.output()).isNotZero();
        assertThat(result.output()).contains("nope");
    }

    @Test
    void emptyNameSelectsTheOnlyExport() throws Exception {
        disk.fill(0, 4096, (byte) 0x77);

        assertSucceeded(Qemu.io("nbd://127.0.0.1:" + server.address().getPort(), "read -P 0x77 0 4k"));
    }

    @Test
    void asynchronousRequestsAllComplete() throws Exception {
        assertSucceeded(Qemu.io(url,
                "aio_write -P 0x11 0 1M", "aio_write -P 0x22 1M 1M", "aio_write -P 0x33 2M 1M",
                "aio_write -z 3M 1M", "aio_flush",
                "aio_read -P 0x11 0 1M", "aio_read -P 0x22 1M 1M", "aio_read -P 0x33 2M 1M",
                "aio_read -P 0 3M 1M", "aio_flush"));

        assertThat(disk.snapshot(MIB, MIB)).containsOnly((byte) 0x22);
    }

    private static void assertSucceeded(Qemu.Result result) {
        assertThat(result.exitCode()).as(result.output()).isZero();
        assertThat(result.output()).as(result.output())
                .doesNotContain("Pattern verification failed").doesNotContain("failed:");
    }
}
