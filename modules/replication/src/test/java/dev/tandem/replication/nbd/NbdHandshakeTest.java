package dev.tandem.replication.nbd;

import static dev.tandem.replication.nbd.NbdProtocol.*;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Option haggling, driven over a raw socket. */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class NbdHandshakeTest {
    private static final int BASE_FLAGS =
            FLAG_HAS_FLAGS | FLAG_SEND_FLUSH | FLAG_SEND_FUA | FLAG_SEND_TRIM | FLAG_SEND_WRITE_ZEROES;

    private final MemoryExport alpha = new MemoryExport("alpha", 1 << 20);
    private final MemoryExport beta = new MemoryExport("beta", 1 << 16).readOnly(true);
    private NbdServer server;

    @BeforeEach
    void start() {
        server = NbdServer.start(new InetSocketAddress("127.0.0.1", 0), TestExports.of(alpha, beta));
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void listNamesEveryExport() throws IOException {
        try (NbdTestClient client = negotiating()) {
            client.sendOption(OPT_LIST, new byte[0]);

            List<String> names = new ArrayList<>();
            NbdTestClient.OptionReply reply;
            while ((reply = client.readOptionReply()).type() == REP_SERVER) {
                ByteBuffer data = ByteBuffer.wrap(reply.data());
                byte[] name = new byte[data.getInt()];
                data.get(name);
                names.add(new String(name, StandardCharsets.UTF_8));
            }
            assertThat(reply.type()).isEqualTo(REP_ACK);
            assertThat(names).containsExactly("alpha", "beta");
        }
    }

    @Test
    void listWithDataIsInvalid() throws IOException {
        try (NbdTestClient client = negotiating()) {
            client.sendOption(OPT_LIST, new byte[] {1});

            assertThat(client.readOptionReply().type()).isEqualTo(REP_ERR_INVALID);
        }
    }

    @Test
    void infoDescribesTheExportAndStaysInNegotiation() throws IOException {
        try (NbdTestClient client = negotiating()) {
            client.sendInfoOption(OPT_INFO, "alpha", INFO_NAME, INFO_BLOCK_SIZE);

            NbdTestClient.OptionReply export = client.readOptionReply();
            assertThat(export.type()).isEqualTo(REP_INFO);
            ByteBuffer data = ByteBuffer.wrap(export.data());
            assertThat(data.getShort()).isEqualTo((short) INFO_EXPORT);
            assertThat(data.getLong()).isEqualTo(1 << 20);
            assertThat(data.getShort() & 0xffff).isEqualTo(BASE_FLAGS); // no READ_ONLY, no CAN_MULTI_CONN

            NbdTestClient.OptionReply name = client.readOptionReply();
            assertThat(ByteBuffer.wrap(name.data()).getShort()).isEqualTo((short) INFO_NAME);
            assertThat(new String(name.data(), 2, name.data().length - 2, StandardCharsets.UTF_8)).isEqualTo("alpha");

            NbdTestClient.OptionReply blockSize = client.readOptionReply();
            ByteBuffer sizes = ByteBuffer.wrap(blockSize.data());
            assertThat(sizes.getShort()).isEqualTo((short) INFO_BLOCK_SIZE);
            assertThat(sizes.getInt()).isEqualTo(1);
            assertThat(sizes.getInt()).isEqualTo(4096);
            assertThat(sizes.getInt()).isEqualTo(32 * 1024 * 1024);

            assertThat(client.readOptionReply().type()).isEqualTo(REP_ACK);

            // still negotiating: another option is answered
            client.sendOption(OPT_LIST, new byte[0]);
            assertThat(client.readOptionReply().type()).isEqualTo(REP_SERVER);
        }
    }

    @Test
    void readOnlyExportCarriesTheReadOnlyFlag() throws IOException {
        try (NbdTestClient client = negotiating()) {
            client.sendInfoOption(OPT_INFO, "beta");

            ByteBuffer data = ByteBuffer.wrap(client.readOptionReply().data());
            data.getShort();
            data.getLong();
            assertThat(data.getShort() & 0xffff).isEqualTo(BASE_FLAGS | FLAG_READ_ONLY);
        }
    }

    @Test
    void unknownExportIsReportedAndNegotiationGoesOn() throws IOException {
        try (NbdTestClient client = negotiating()) {
            client.sendInfoOption(OPT_GO, "gamma", INFO_BLOCK_SIZE);
            NbdTestClient.OptionReply refused = client.readOptionReply();
            assertThat(refused.type()).isEqualTo(REP_ERR_UNKNOWN);
            assertThat(refused.text()).contains("gamma");

            // with two exports there is no default either
            client.sendInfoOption(OPT_GO, "");
            assertThat(client.readOptionReply().type()).isEqualTo(REP_ERR_UNKNOWN);

            client.sendInfoOption(OPT_GO, "alpha");
            assertThat(client.readOptionReply().type()).isEqualTo(REP_INFO);
        }
    }

    @Test
    void emptyNameSelectsTheOnlyExport() throws IOException {
        try (NbdServer single = NbdServer.start(new InetSocketAddress("127.0.0.1", 0), TestExports.of(alpha));
                NbdTestClient client = NbdTestClient.open(single.address(), "")) {
            client.sendRequest(0, CMD_READ, 7, 0, 512);
            assertThat(client.readReply()).isEqualTo(new NbdTestClient.Reply(0, 7));
        }
    }

    @Test
    void structuredRepliesAndUnknownOptionsAreUnsupported() throws IOException {
        try (NbdTestClient client = negotiating()) {
            for (int option : new int[] {OPT_STRUCTURED_REPLY, OPT_STARTTLS, 42, 0x7fffffff}) {
                client.sendOption(option, new byte[3]);
                NbdTestClient.OptionReply reply = client.readOptionReply();
                assertThat(reply.option()).isEqualTo(option);
                assertThat(reply.type()).isEqualTo(REP_ERR_UNSUP);
            }
            client.sendInfoOption(OPT_GO, "alpha");
            assertThat(client.readOptionReply().type()).isEqualTo(REP_INFO);
        }
    }

    @Test
    void malformedInfoRequestsAreInvalid() throws IOException {
        try (NbdTestClient client = negotiating()) {
            client.sendOption(OPT_GO, new byte[] {0, 0});
            assertThat(client.readOptionReply().type()).isEqualTo(REP_ERR_INVALID);

            client.sendOption(OPT_GO, ByteBuffer.allocate(10).putInt(100).array()); // name runs past the end
            assertThat(client.readOptionReply().type()).isEqualTo(REP_ERR_INVALID);

            byte[] name = "alpha".getBytes(StandardCharsets.UTF_8);
            client.sendOption(OPT_GO, ByteBuffer.allocate(4 + name.length + 2)
                    .putInt(name.length).put(name).putShort((short) 3).array()); // 3 requests announced, none sent
            assertThat(client.readOptionReply().type()).isEqualTo(REP_ERR_INVALID);

            client.sendInfoOption(OPT_GO, "alpha");
            assertThat(client.readOptionReply().type()).isEqualTo(REP_INFO);
        }
    }

    @Test
    void exportNameWithNoZeroesEntersTransmission() throws IOException {
        try (NbdTestClient client = NbdTestClient.connect(server.address())) {
            client.greet(FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES);
            client.sendOption(OPT_EXPORT_NAME, "alpha".getBytes(StandardCharsets.UTF_8));

            assertThat(client.in.readLong()).isEqualTo(1 << 20);
            assertThat(client.in.readUnsignedShort()).isEqualTo(BASE_FLAGS);
            client.sendRequest(0, CMD_READ, 9, 0, 16);
            assertThat(client.readReply()).isEqualTo(new NbdTestClient.Reply(0, 9));
            assertThat(client.readData(16)).containsOnly((byte) 0);
        }
    }

    @Test
    void exportNameWithoutNoZeroesSendsThePadding() throws IOException {
        try (NbdTestClient client = NbdTestClient.connect(server.address())) {
            client.greet(FLAG_C_FIXED_NEWSTYLE);
            client.sendOption(OPT_EXPORT_NAME, "beta".getBytes(StandardCharsets.UTF_8));

            assertThat(client.in.readLong()).isEqualTo(1 << 16);
            assertThat(client.in.readUnsignedShort()).isEqualTo(BASE_FLAGS | FLAG_READ_ONLY);
            assertThat(client.readData(124)).containsOnly((byte) 0);
            client.sendRequest(0, CMD_FLUSH, 10, 0, 0);
            assertThat(client.readReply()).isEqualTo(new NbdTestClient.Reply(0, 10));
        }
    }

    @Test
    void exportNameForAnUnknownExportEndsTheSession() throws IOException {
        try (NbdTestClient client = negotiating()) {
            client.sendOption(OPT_EXPORT_NAME, "gamma".getBytes(StandardCharsets.UTF_8));

            assertThat(client.closedByServer()).isTrue();
        }
    }

    @Test
    void abortIsAcknowledgedThenClosed() throws IOException {
        try (NbdTestClient client = negotiating()) {
            client.sendOption(OPT_ABORT, new byte[0]);

            NbdTestClient.OptionReply reply = client.readOptionReply();
            assertThat(reply.option()).isEqualTo(OPT_ABORT);
            assertThat(reply.type()).isEqualTo(REP_ACK);
            assertThat(client.closedByServer()).isTrue();
        }
    }

    @Test
    void clientWithoutFixedNewstyleIsRefused() throws IOException {
        try (NbdTestClient client = NbdTestClient.connect(server.address())) {
            client.greet(0);

            assertThat(client.closedByServer()).isTrue();
        }
    }

    @Test
    void unknownClientFlagsAreRefused() throws IOException {
        try (NbdTestClient client = NbdTestClient.connect(server.address())) {
            client.greet(FLAG_C_FIXED_NEWSTYLE | 0x100);

            assertThat(client.closedByServer()).isTrue();
        }
    }

    @Test
    void badOptionMagicEndsTheSession() throws IOException {
        try (NbdTestClient client = negotiating()) {
            client.out.writeLong(0x1122334455667788L);
            client.out.writeInt(OPT_LIST);
            client.out.writeInt(0);
            client.out.flush();

            assertThat(client.closedByServer()).isTrue();
        }
    }

    @Test
    void oversizedOptionIsTooBigThenClosed() throws IOException {
        try (NbdTestClient client = negotiating()) {
            client.out.writeLong(IHAVEOPT);
            client.out.writeInt(OPT_GO);
            client.out.writeInt(0xffff_fff0); // ~4 GiB of option data announced
            client.out.flush();

            assertThat(client.readOptionReply().type()).isEqualTo(REP_ERR_TOO_BIG);
            assertThat(client.closedByServer()).isTrue();
        }
    }

    private NbdTestClient negotiating() throws IOException {
        NbdTestClient client = NbdTestClient.connect(server.address());
        client.greet(FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES);
        return client;
    }
}
