package dev.tandem.health;

import dev.tandem.config.HealthCheck;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;

/**
 * One check of one member: a TCP connect, or an HTTP(S)/1.0 GET on a fresh connection whose status
 * must match. A fresh connection each time, so a check measures what a new client would get.
 */
public final class HealthProbe {
    private HealthProbe() {}

    /** Null if the member passed, otherwise what went wrong, in a few words. */
    public static String check(InetAddress address, HealthCheck check) {
        int timeout = (int) Math.max(1, check.timeout().toMillis());
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(address, check.port()), timeout);
            if (check.type() == HealthCheck.Type.TCP) return null;
            socket.setSoTimeout(timeout);
            Socket stream = check.type() == HealthCheck.Type.HTTPS ? tls(socket, address) : socket;
            return http(stream, address, check);
        } catch (java.net.ConnectException e) {
            return "connection refused";
        } catch (java.net.SocketTimeoutException e) {
            return "timed out after " + timeout + " ms";
        } catch (IOException e) {
            return e.getClass().getSimpleName() + ": " + e.getMessage();
        }
    }

    private static String http(Socket socket, InetAddress address, HealthCheck check) throws IOException {
        OutputStream out = socket.getOutputStream();
        String host = address.getHostAddress();
        out.write(("GET " + check.path() + " HTTP/1.0\r\nHost: " + host + "\r\nUser-Agent: tandem-health-check\r\n"
                + "Connection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        String statusLine = readLine(socket.getInputStream());
        String[] parts = statusLine.split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/")) return "not an HTTP reply";
        int status;
        try {
            status = Integer.parseInt(parts[1]);
        } catch (NumberFormatException e) {
            return "not an HTTP reply";
        }
        return status == check.expectStatus() ? null : "HTTP " + status + " (expected " + check.expectStatus() + ")";
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        for (int c; (c = in.read()) != -1 && c != '\n' && line.length() < 256; ) {
            if (c != '\r') line.append((char) c);
        }
        return line.toString();
    }

    /** Health checks trust any certificate: they ask "does it answer", not "is it who it says". */
    private static Socket tls(Socket plain, InetAddress address) throws IOException {
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, new TrustManager[] {new TrustAnyCertificate()}, new SecureRandom());
            SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(plain, address.getHostAddress(), plain.getPort(), true);
            socket.startHandshake();
            return socket;
        } catch (java.security.GeneralSecurityException e) {
            throw new IOException(e);
        }
    }
}
