package dev.tandem.dns.server;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/** An access list of addresses and CIDR blocks ({@code 192.0.2.0/24}, {@code 2001:db8::/32}, {@code 127.0.0.1}). */
public final class AddressList {
    private record Block(byte[] network, int prefix) {}

    private final List<Block> blocks;

    private AddressList(List<Block> blocks) {
        this.blocks = blocks;
    }

    public static AddressList parse(List<String> entries) {
        List<Block> blocks = new ArrayList<>();
        for (String entry : entries) blocks.add(block(entry));
        return new AddressList(blocks);
    }

    /** Checks one entry; the message says what is wrong with it. */
    public static String problem(String entry) {
        try {
            block(entry);
            return null;
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
    }

    public boolean contains(InetAddress address) {
        byte[] bytes = address.getAddress();
        for (Block b : blocks) if (matches(b, bytes)) return true;
        return false;
    }

    private static boolean matches(Block block, byte[] address) {
        if (block.network.length != address.length) return false;
        int full = block.prefix / 8;
        for (int i = 0; i < full; i++) if (block.network[i] != address[i]) return false;
        int rest = block.prefix % 8;
        if (rest == 0) return true;
        int mask = (0xff << (8 - rest)) & 0xff;
        return (block.network[full] & mask) == (address[full] & mask);
    }

    private static Block block(String entry) {
        String text = entry == null ? "" : entry.trim();
        int slash = text.indexOf('/');
        String host = slash < 0 ? text : text.substring(0, slash);
        if (!host.matches("[0-9a-fA-F:.]+") || (!host.contains(":") && !host.matches("\\d{1,3}(\\.\\d{1,3}){3}"))) {
            throw new IllegalArgumentException("\"" + entry + "\" is not an address or CIDR block (e.g. 192.0.2.0/24)");
        }
        byte[] network;
        try {
            network = InetAddress.getByName(host).getAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("\"" + entry + "\" is not an address or CIDR block (e.g. 192.0.2.0/24)");
        }
        int prefix = network.length * 8;
        if (slash >= 0) {
            try {
                prefix = Integer.parseInt(text.substring(slash + 1));
            } catch (NumberFormatException e) {
                prefix = -1;
            }
            if (prefix < 0 || prefix > network.length * 8) {
                throw new IllegalArgumentException("\"" + entry + "\" has a bad prefix length (0-" + network.length * 8 + ")");
            }
        }
        return new Block(network, prefix);
    }
}
