package dev.tandem.appliance;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * A tiny web server that answers every GET with one line of text: the demo's stand-in for the
 * operator's service at each site, so that failover can be watched with dig and curl.
 */
@Command(name = "backend", description = "Run a tiny HTTP server answering with a fixed line (the demo's backends).")
final class BackendCommand implements Callable<Integer> {
    @Option(names = "--listen", required = true, description = "ADDRESS:PORT to listen on")
    String listen;

    @Option(names = "--text", required = true, description = "the line to answer with")
    String text;

    @Override
    public Integer call() throws Exception {
        int colon = listen.lastIndexOf(':');
        int port = colon < 0 ? -1 : parsePort(listen.substring(colon + 1));
        if (port < 1 || port > 65535) throw new IllegalArgumentException("--listen needs ADDRESS:PORT (port 1-65535), got \"" + listen + "\"");
        HttpServer server = HttpServer.create(new InetSocketAddress(listen.substring(0, colon), port), 64);
        byte[] body = (text + "\n").getBytes(StandardCharsets.UTF_8);
        server.createContext("/", exchange -> {
            exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        System.out.println("backend on " + listen + " answering \"" + text + "\"");
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.stop(0);
            stopped.countDown();
        }));
        stopped.await();
        return 0;
    }

    private static int parsePort(String text) {
        try {
            return Integer.parseInt(text);
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
