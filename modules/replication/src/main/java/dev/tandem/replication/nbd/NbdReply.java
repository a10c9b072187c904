package dev.tandem.replication.nbd;

/** The outcome of one request: an NBD error value (0 for success) and, for a successful read, the data. */
record NbdReply(int error, byte[] data) {
    private static final NbdReply OK = new NbdReply(0, null);

    static NbdReply ok() {
        return OK;
    }

    static NbdReply data(byte[] data) {
        return new NbdReply(0, data);
    }

    static NbdReply error(int error) {
        return new NbdReply(error, null);
    }
}
