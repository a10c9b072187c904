package dev.tandem.dns.server;

import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Finished replies to plain questions, by question: most queries repeat, and copying bytes is far
 * cheaper than parsing, looking up and compressing again. It belongs to one {@link ServingState} and
 * dies with it, so it can never serve data older than what is served now.
 *
 * <p>A plain question is one QUERY with one question, no answer or authority records, and at most an
 * EDNS OPT without options (see {@link #key}). Anything else takes the full path.
 */
final class AnswerCache {
    static final int MAX_ENTRIES = 50_000;

    private final ConcurrentHashMap<Key, byte[]> replies = new ConcurrentHashMap<>();

    /** The question's bytes, lower-cased, plus what shapes the reply: the size limit and the EDNS DO bit. */
    static final class Key {
        private final byte[] bytes;
        private final int hash;

        private Key(byte[] bytes) {
            this.bytes = bytes;
            this.hash = Arrays.hashCode(bytes);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.hash == hash && Arrays.equals(k.bytes, bytes);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    /**
     * The key for a plain question, or null if the request is anything else. {@code questionEnd}
     * receives the offset just past the question, so a hit can copy the asker's spelling of the name.
     */
    static Key key(byte[] m, boolean tcp, int[] questionEnd) {
        int n = m.length;
        if (n < 17 || (m[2] & 0xf8) != 0) return null; // a response, or an opcode other than QUERY
        if (m[4] != 0 || m[5] != 1 || m[6] != 0 || m[7] != 0 || m[8] != 0 || m[9] != 0 || m[10] != 0 || (m[11] & 0xfe) != 0) {
            return null;
        }
        int p = 12;
        while (true) {
            if (p >= n) return null;
            int len = m[p] & 0xff;
            if (len == 0) break;
            if (len > 63 || p + 1 + len > n || p - 12 + len + 1 > 254) return null; // a pointer, or too long
            p += 1 + len;
        }
        p++;
        if (p + 4 > n) return null;
        int qtype = ((m[p] & 0xff) << 8) | (m[p + 1] & 0xff);
        int qclass = ((m[p + 2] & 0xff) << 8) | (m[p + 3] & 0xff);
        if (qclass != 1 || qtype == 0 || qtype >= 128 || qtype == 41 || qtype == 24 || qtype == 46 || qtype == 249 || qtype == 250) return null;
        p += 4;
        questionEnd[0] = p;
        int limit = tcp ? 65535 : 512;
        int doBit = 0;
        if (m[11] == 1) {
            // OPT: root owner, type 41, class = payload size, ext-rcode 0, version 0, flags, no options
            if (p + 11 != n || m[p] != 0 || m[p + 1] != 0 || m[p + 2] != 41 || m[p + 5] != 0 || m[p + 6] != 0) return null;
            if (m[p + 9] != 0 || m[p + 10] != 0) return null;
            int payload = ((m[p + 3] & 0xff) << 8) | (m[p + 4] & 0xff);
            if (!tcp) limit = Math.max(512, Math.min(payload, Responses.MAX_UDP_PAYLOAD));
            doBit = (m[p + 7] & 0x80) != 0 ? 1 : 0;
            limit |= 0x10000; // EDNS replies carry an OPT: a different reply from the same limit without one
        } else if (p != n) {
            return null;
        }
        int qlen = questionEnd[0] - 12;
        byte[] key = new byte[qlen + 4];
        for (int i = 0; i < qlen; i++) {
            byte b = m[12 + i];
            key[i] = b >= 'A' && b <= 'Z' ? (byte) (b + 32) : b;
        }
        key[qlen] = (byte) (limit >>> 16);
        key[qlen + 1] = (byte) (limit >>> 8);
        key[qlen + 2] = (byte) limit;
        key[qlen + 3] = (byte) doBit;
        return new Key(key);
    }

    /** The cached reply made to fit this request (its ID, RD and CD bits, its spelling of the name), or null. */
    byte[] reply(Key key, byte[] request, int questionEnd) {
        byte[] cached = replies.get(key);
        if (cached == null) return null;
        byte[] out = cached.clone();
        out[0] = request[0];
        out[1] = request[1];
        out[2] = (byte) ((out[2] & ~0x01) | (request[2] & 0x01));
        out[3] = (byte) ((out[3] & ~0x10) | (request[3] & 0x10));
        // the question is echoed as asked; answers that name it point at it, so they take its case too
        System.arraycopy(request, 12, out, 12, questionEnd - 12);
        return out;
    }

    void put(Key key, byte[] reply) {
        if (replies.size() < MAX_ENTRIES) replies.putIfAbsent(key, reply);
    }

    int size() {
        return replies.size();
    }
}
