package dev.tandem.replication.nbd;

import static dev.tandem.replication.nbd.NbdProtocol.*;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** A bare NBD client over a socket, for driving the server into corners qemu never goes. */
final class NbdTestClient implements AutoCloseable {
    record OptionReply(int option, int type, byte[] data) {
        String text() {
            return new String(data, StandardCharsets.UTF_8);
        }
    }

    record Reply(int error, long handle) {
    }

    final Socket socket;
    final DataInputStream in;
    final DataOutputStream out;

    private NbdTestClient(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
        this.out = new DataOutputStream(socket.getOutputStream());
    }

    static NbdTestClient connect(InetSocketAddress address) throws IOException {
        Socket socket = new Socket();
        socket.connect(address, 10_000);
        socket.setSoTimeout(30_000); // a hang fails the test instead of stalling the build
        return new NbdTestClient(socket);
    }

    /** Connects, checks the greeting and completes NBD_OPT_GO for {@code name}. */
    static NbdTestClient open(InetSocketAddress address, String name) throws IOException {
        NbdTestClient client = connect(address);
        client.greet(FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES);
        client.sendInfoOption(OPT_GO, name, INFO_BLOCK_SIZE);
        OptionReply reply;
        do {
            reply = client.readOptionReply();
            assertThat(reply.type()).as("reply to NBD_OPT_GO: %s", reply.text()).isIn(REP_INFO, REP_ACK);
        } while (reply.type() != REP_ACK);
        return client;
    }

    /** Reads the server greeting, checks it and sends the client flags. */
    void greet(int clientFlags) throws IOException {
        assertThat(in.readLong()).isEqualTo(NBDMAGIC);
        assertThat(in.readLong()).isEqualTo(IHAVEOPT);
        assertThat(in.readUnsignedShort()).isEqualTo(FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES);
        out.writeInt(clientFlags);
        out.flush();
    }

    void sendOption(int option, byte[] data) throws IOException {
        out.writeLong(IHAVEOPT);
        out.writeInt(option);
        out.writeInt(data.length);
        out.write(data);
        out.flush();
    }

    void sendInfoOption(int option, String name, int... infos) throws IOException {
        byte[] utf8 = name.getBytes(StandardCharsets.UTF_8);
        ByteBuffer data = ByteBuffer.allocate(4 + utf8.length + 2 + 2 * infos.length);
        data.putInt(utf8.length).put(utf8).putShort((short) infos.length);
        for (int info : infos) {
            data.putShort((short) info);
        }
        sendOption(option, data.array());
    }

    OptionReply readOptionReply() throws IOException {
        assertThat(in.readLong()).isEqualTo(OPTION_REPLY_MAGIC);
        int option = in.readInt();
        int type = in.readInt();
        byte[] data = new byte[in.readInt()];
        in.readFully(data);
        return new OptionReply(option, type, data);
    }

    void sendRequest(int flags, int type, long handle, long offset, long length) throws IOException {
        out.writeInt(REQUEST_MAGIC);
        out.writeShort(flags);
        out.writeShort(type);
        out.writeLong(handle);
        out.writeLong(offset);
        out.writeInt((int) length);
        out.flush();
    }

    void write(long handle, long offset, byte[] payload) throws IOException {
        sendRequest(0, CMD_WRITE, handle, offset, payload.length);
        out.write(payload);
        out.flush();
    }

    /** Reads a simple reply header; the data of a successful read follows and is the caller's to read. */
    Reply readReply() throws IOException {
        assertThat(in.readInt()).isEqualTo(SIMPLE_REPLY_MAGIC);
        return new Reply(in.readInt(), in.readLong());
    }

    byte[] readData(int length) throws IOException {
        byte[] data = new byte[length];
        in.readFully(data);
        return data;
    }

    /** True once the server has closed the connection (reading anything that is left before the end). */
    boolean closedByServer() throws IOException {
        try {
            while (in.read() != -1) {
                // drain whatever the server still sent
            }
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
