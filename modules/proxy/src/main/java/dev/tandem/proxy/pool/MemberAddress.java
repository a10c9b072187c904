package dev.tandem.proxy.pool;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A member's {@code address}: an IP literal and a port, {@code 10.0.0.5:8000} or {@code [2001:db8::5]:8000}. */
public final class MemberAddress {
    private static final Pattern FORM = Pattern.compile("(?:\\[([0-9a-fA-F:.]+)]|(\\d{1,3}(?:\\.\\d{1,3}){3})):(\\d{1,5})");

    private MemberAddress() {}

    /** The address, or an {@link IllegalArgumentException} that says what is wrong with it. */
    public static InetSocketAddress parse(String text) {
        if (text == null) throw new IllegalArgumentException("missing");
        Matcher m = FORM.matcher(text);
        if (!m.matches()) {
            throw new IllegalArgumentException("\"" + text + "\" is not IP:PORT (e.g. 10.0.0.5:8000 or [2001:db8::5]:8000; host names are not resolved)");
        }
        int port = Integer.parseInt(m.group(3));
        if (port < 1 || port > 65535) throw new IllegalArgumentException("\"" + text + "\": " + port + " is not a port (1-65535)");
        String host = m.group(1) != null ? m.group(1) : m.group(2);
        try {
            // an IP literal: getByName parses it without a lookup
            return new InetSocketAddress(InetAddress.getByName(host), port);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("\"" + text + "\": " + host + " is not an IP address");
        }
    }
}
