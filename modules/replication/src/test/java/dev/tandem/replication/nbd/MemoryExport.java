package dev.tandem.replication.nbd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/** A byte[]-backed export that records each completed call and lets a test stall or fail calls. */
final class MemoryExport implements NbdExport {

    /** Runs before an operation touches the data; may block or throw to simulate a slow or broken device. */
    @FunctionalInterface
    interface Hook {
        void before(String operation, long offset) throws IOException;
    }

    private final String name;
    private final byte[] data;
    private volatile boolean readOnly;
    private volatile Hook hook = (operation, offset) -> { };
    private final List<String> calls = new ArrayList<>();

    MemoryExport(String name, int size) {
        this.name = name;
        this.data = new byte[size];
    }

    MemoryExport readOnly(boolean value) {
        this.readOnly = value;
        return this;
    }

    MemoryExport hook(Hook value) {
        this.hook = value;
        return this;
    }

    /** Completed calls, e.g. "write 0 4096", "write 0 4096 fua", "flush", "trim 0 65536". */
    List<String> calls() {
        synchronized (calls) {
            return List.copyOf(calls);
        }
    }

    byte[] snapshot(int offset, int length) {
        synchronized (data) {
            byte[] copy = new byte[length];
            System.arraycopy(data, offset, copy, 0, length);
            return copy;
        }
    }

    void fill(int offset, int length, byte value) {
        synchronized (data) {
            java.util.Arrays.fill(data, offset, offset + length, value);
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public long size() {
        return data.length;
    }

    @Override
    public boolean readOnly() {
        return readOnly;
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        hook.before("read", offset);
        synchronized (data) {
            dst.put(data, (int) offset, dst.remaining());
        }
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
        hook.before("write", offset);
        int length = src.remaining();
        synchronized (data) {
            src.get(data, (int) offset, length);
        }
        record("write " + offset + " " + length + (fua ? " fua" : ""));
    }

    @Override
    public void flush() throws IOException {
        hook.before("flush", 0);
        record("flush");
    }

    @Override
    public void trim(long offset, long length) throws IOException {
        hook.before("trim", offset);
        record("trim " + offset + " " + length);
    }

    private void record(String call) {
        synchronized (calls) {
            calls.add(call);
        }
    }
}
