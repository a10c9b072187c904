package dev.tandem.proxy.http;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.http.HttpException;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.http.HttpParser;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.io.AbstractConnection;
import org.eclipse.jetty.io.ByteBufferPool;
import org.eclipse.jetty.io.ClientConnectionFactory;
import org.eclipse.jetty.io.ClientConnector;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.RetainableByteBuffer;
import org.eclipse.jetty.io.Transport;
import org.eclipse.jetty.server.HttpStream;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.IteratingCallback;
import org.eclipse.jetty.util.Promise;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Passes HTTP/1.1 Upgrade requests (WebSocket above all) to a backend as a transparent byte tunnel, which Jetty's
 * ProxyHandler cannot do. Modelled on Jetty's ConnectHandler: once the backend answers 101, the client's connection
 * is handed to Jetty as {@link HttpStream#UPGRADE_CONNECTION_ATTRIBUTE}, and two connections copy bytes between the
 * endpoints with non-blocking reads and writes, on the selector's and pool's threads, never one of their own.
 */
public final class UpgradeTunnel {
    private static final Logger LOG = LoggerFactory.getLogger(UpgradeTunnel.class);
    private static final int MAX_HEAD_BYTES = 64 * 1024;
    private static final int MAX_BODY_BYTES = 64 * 1024;
    private static final int BUFFER_SIZE = 16 * 1024;
    private static final EnumSet<HttpHeader> HOP_HEADERS = EnumSet.of(HttpHeader.CONNECTION, HttpHeader.KEEP_ALIVE,
        HttpHeader.PROXY_CONNECTION, HttpHeader.PROXY_AUTHENTICATE, HttpHeader.PROXY_AUTHORIZATION, HttpHeader.TE,
        HttpHeader.TRAILER, HttpHeader.TRANSFER_ENCODING, HttpHeader.UPGRADE);

    /** Failures and completion of one tunnelled request, for the proxy's health and in-flight accounting. */
    public interface Outcome {
        /** The backend could not be reached (connect refused / timed out / closed before answering). Called before finished(). */
        void connectFailed(Throwable cause);

        /** Called exactly once per handle() call, whatever happened, when the request (and the tunnel, if one opened) is over. */
        void finished();
    }

    private final ClientConnector connector;
    private final long idleTimeoutMs;

    /**
     * @param connector a started Jetty ClientConnector owned by the caller, connecting without blocking
     * @param idleTimeout applies to both sides of an open tunnel, and to the wait for the backend's answer
     */
    public UpgradeTunnel(ClientConnector connector, Duration idleTimeout) {
        // A blocking connect would hold the Jetty thread that handles the request.
        if (connector.isConnectBlocking())
            throw new IllegalArgumentException("the ClientConnector must connect without blocking");
        this.connector = connector;
        this.idleTimeoutMs = idleTimeout.toMillis();
    }

    /** True for an HTTP/1.1 request with an Upgrade header and "upgrade" among its Connection tokens. */
    public static boolean isUpgrade(Request request) {
        HttpFields headers = request.getHeaders();
        return request.getConnectionMetaData().getHttpVersion() == HttpVersion.HTTP_1_1
            && headers.contains(HttpHeader.UPGRADE) && headers.contains(HttpHeader.CONNECTION, "upgrade");
    }

    /**
     * Handles the request completely: the caller returns true from its Handler.handle. A 101 from the backend opens a
     * tunnel; any other answer is relayed with its body (up to 64 KiB); an unreachable backend gets a 502.
     */
    public void handle(Request request, Response response, Callback callback, InetSocketAddress backend,
                       HttpFields extraHeaders, Outcome outcome) {
        Passage exchange = new Passage(request, response, callback, outcome);
        Request.addCompletionListener(request, exchange::httpCompleted);
        // A request body would have to be read through Jetty before the switch; upgrades do not carry one.
        if (!isUpgrade(request) || request.getLength() > 0 || request.getHeaders().contains(HttpHeader.TRANSFER_ENCODING)) {
            exchange.reject(HttpStatus.BAD_REQUEST_400);
            return;
        }
        ByteBuffer head = requestHead(request, extraHeaders == null ? HttpFields.EMPTY : extraHeaders);
        Map<String, Object> context = new HashMap<>();
        context.put(Transport.class.getName(), Transport.TCP_IP);
        context.put(ClientConnector.CLIENT_CONNECTION_FACTORY_CONTEXT_KEY,
            (ClientConnectionFactory) (endPoint, ignored) -> new BackendConnection(endPoint, exchange, head));
        context.put(ClientConnector.CONNECTION_PROMISE_CONTEXT_KEY, Promise.<Connection>from(c -> { }, failure -> {
            exchange.unreachable(failure);
            exchange.done(Passage.BACKEND);
        }));
        connector.connect(backend, context);
    }

    private static ByteBuffer requestHead(Request request, HttpFields extraHeaders) {
        String target = request.getHttpURI().getPathQuery();
        StringBuilder head = new StringBuilder(1024).append(request.getMethod()).append(' ')
            .append(target == null || target.isEmpty() ? "/" : target).append(" HTTP/1.1\r\n");
        Set<String> named = connectionTokens(request.getHeaders());
        named.remove("upgrade");
        for (HttpField field : request.getHeaders()) {
            HttpHeader header = field.getHeader();
            boolean hop = header != HttpHeader.UPGRADE && HOP_HEADERS.contains(header);
            if (!hop && !named.contains(field.getLowerCaseName()))
                head.append(field.getName()).append(": ").append(field.getValue()).append("\r\n");
        }
        head.append("Connection: Upgrade\r\n");
        for (HttpField field : extraHeaders)
            head.append(field.getName()).append(": ").append(field.getValue()).append("\r\n");
        return ByteBuffer.wrap(head.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
    }

    private static void copyResponseHeaders(HttpFields from, HttpFields.Mutable to, boolean switching) {
        Set<String> named = connectionTokens(from);
        for (HttpField field : from) {
            HttpHeader header = field.getHeader();
            boolean keep = switching && (header == HttpHeader.CONNECTION || header == HttpHeader.UPGRADE);
            if (!keep && (HOP_HEADERS.contains(header) || header == HttpHeader.CONTENT_LENGTH || named.contains(field.getLowerCaseName())))
                continue;
            // Jetty has already put its own Date and Server; the backend's replace them rather than repeat them.
            if (header == HttpHeader.DATE || header == HttpHeader.SERVER)
                to.put(field);
            else
                to.add(field);
        }
    }

    private static Set<String> connectionTokens(HttpFields fields) {
        Set<String> tokens = new HashSet<>();
        for (String token : fields.getCSV(HttpHeader.CONNECTION, false))
            tokens.add(token.toLowerCase(Locale.ROOT));
        return tokens;
    }

    /** One handle() call: answers the client once, and reports finished() once the exchange and every connection are over. */
    private static final class Passage {
        static final int HTTP = 1;
        static final int BACKEND = 2;
        static final int CLIENT_TUNNEL = 4;

        private final Request request;
        private final Response response;
        private final Callback callback;
        private final Outcome outcome;
        // Captured up front: Jetty's request refuses most calls once its exchange is over.
        private final String target;
        private final boolean headRequest;
        private final EndPoint clientEndPoint;
        private final Executor clientExecutor;
        private final ByteBufferPool clientPool;
        private final AtomicInteger awaited = new AtomicInteger(HTTP | BACKEND);
        private final AtomicBoolean finished = new AtomicBoolean();
        private boolean responded;
        private boolean httpOver;
        private TunnelEnd clientEnd;

        Passage(Request request, Response response, Callback callback, Outcome outcome) {
            this.request = request;
            this.response = response;
            this.callback = callback;
            this.outcome = outcome;
            this.target = request.getHttpURI().getPathQuery();
            this.headRequest = HttpMethod.HEAD.is(request.getMethod());
            this.clientEndPoint = request.getConnectionMetaData().getConnection().getEndPoint();
            this.clientExecutor = request.getComponents().getExecutor();
            this.clientPool = request.getComponents().getByteBufferPool();
        }

        void reject(int status) {
            if (claim())
                answer(() -> Response.writeError(request, response, callback, status));
            done(BACKEND);
        }

        void unreachable(Throwable cause) {
            if (!claim())
                return;
            LOG.debug("backend unreachable for {}", target, cause);
            notify(() -> outcome.connectFailed(cause));
            answer(() -> Response.writeError(request, response, callback, HttpStatus.BAD_GATEWAY_502));
        }

        void badGateway(String why) {
            if (!claim())
                return;
            LOG.debug("bad answer from backend for {}: {}", target, why);
            answer(() -> Response.writeError(request, response, callback, HttpStatus.BAD_GATEWAY_502));
        }

        void relay(int status, HttpFields headers, byte[] body) {
            if (!claim())
                return;
            answer(() -> {
                response.setStatus(status);
                copyResponseHeaders(headers, response.getHeaders(), false);
                response.write(true, ByteBuffer.wrap(body), callback);
            });
        }

        /** @return false when the client's exchange is already over (e.g. timed out), so no tunnel can open */
        boolean switchProtocols(HttpFields headers, TunnelEnd end) {
            synchronized (this) {
                if (responded || httpOver)
                    return false;
                responded = true;
                // Before the callback completes, so the count cannot reach zero in between.
                awaited.updateAndGet(parts -> parts | CLIENT_TUNNEL);
                clientEnd = end;
            }
            answer(() -> {
                response.setStatus(HttpStatus.SWITCHING_PROTOCOLS_101);
                copyResponseHeaders(headers, response.getHeaders(), true);
                // Jetty's HttpConnection installs this connection on the client's endpoint once the 101 is written.
                request.setAttribute(HttpStream.UPGRADE_CONNECTION_ATTRIBUTE, end);
                callback.succeeded();
            });
            return true;
        }

        void httpCompleted(Throwable failure) {
            TunnelEnd end;
            synchronized (this) {
                httpOver = true;
                end = clientEnd;
            }
            if (failure != null && end != null) {
                // Jetty upgrades only after a successful exchange, so this tunnel will never open.
                end.abandon(failure);
                done(CLIENT_TUNNEL);
            }
            done(HTTP);
        }

        void done(int part) {
            if (awaited.updateAndGet(parts -> parts & ~part) == 0 && finished.compareAndSet(false, true))
                notify(outcome::finished);
        }

        private synchronized boolean claim() {
            boolean first = !responded;
            responded = true;
            return first;
        }

        private void answer(Runnable action) {
            synchronized (this) {
                if (httpOver)
                    return;
            }
            try {
                action.run();
            } catch (RuntimeException x) {
                LOG.debug("client exchange for {} ended first", target, x);
            }
        }

        private void notify(Runnable listener) {
            try {
                listener.run();
            } catch (RuntimeException x) {
                LOG.warn("Outcome listener failed", x);
            }
        }
    }

    /** The backend side until its answer is known: writes the request head and parses the response head. */
    private final class BackendConnection extends AbstractConnection implements Connection.UpgradeFrom {
        private final Passage exchange;
        private final ByteBuffer requestHead;
        private final ResponseHead head = new ResponseHead();
        private final HttpParser parser = new HttpParser(head, MAX_HEAD_BYTES);
        private ByteBuffer leftover;
        private volatile boolean switching;

        BackendConnection(EndPoint endPoint, Passage exchange, ByteBuffer requestHead) {
            super(endPoint, connector.getExecutor());
            this.exchange = exchange;
            this.requestHead = requestHead;
            parser.setHeadResponse(exchange.headRequest);
        }

        @Override
        public void onOpen() {
            super.onOpen();
            getEndPoint().setIdleTimeout(idleTimeoutMs);
            getEndPoint().write(Callback.from(this::fillInterested, this::unanswered), requestHead);
        }

        @Override
        public void onFillable() {
            // Held only while reading: the parser keeps what it needs of a partial head, so nothing waits on a buffer.
            RetainableByteBuffer buffer = connector.getByteBufferPool().acquire(BUFFER_SIZE, true);
            try {
                ByteBuffer bytes = buffer.getByteBuffer();
                while (true) {
                    int filled = getEndPoint().fill(bytes);
                    if (filled == 0) {
                        fillInterested();
                        return;
                    }
                    if (filled < 0) {
                        closedByBackend(bytes);
                        return;
                    }
                    if (parse(bytes))
                        return;
                }
            } catch (Throwable x) {
                unanswered(x);
            } finally {
                buffer.release();
            }
        }

        private void closedByBackend(ByteBuffer bytes) {
            if (head.status == 0) {
                unanswered(new EOFException("backend closed before answering"));
                return;
            }
            // Either ends a body delimited by the close, or reports the answer cut short.
            parser.atEOF();
            if (!parse(bytes)) {
                exchange.badGateway("backend closed in the middle of its answer");
                getEndPoint().close();
            }
        }

        /** @return true once the answer is decided and handed on */
        private boolean parse(ByteBuffer bytes) {
            while (true) {
                boolean complete = parser.parseNext(bytes);
                if (head.failure != null) {
                    exchange.badGateway(head.failure);
                    getEndPoint().close();
                    return true;
                }
                if (!complete)
                    return false;
                if (head.status == HttpStatus.SWITCHING_PROTOCOLS_101) {
                    switchProtocols(bytes);
                    return true;
                }
                if (!HttpStatus.isInformational(head.status)) {
                    exchange.relay(head.status, head.fields, head.body.toByteArray());
                    getEndPoint().close();
                    return true;
                }
                // 100 or 103 before the real answer: not for the client of an upgrade.
                parser.reset();
                head.reset();
            }
        }

        private void switchProtocols(ByteBuffer bytes) {
            // The backend may speak the new protocol in the same packet as its 101; those bytes go to the client first.
            leftover = bytes.hasRemaining() ? BufferUtil.copy(bytes) : null;
            switching = true;
            TunnelEnd backendEnd = new TunnelEnd(getEndPoint(), exchange.clientEndPoint, connector.getExecutor(),
                connector.getByteBufferPool(), exchange, Passage.BACKEND, null);
            TunnelEnd clientEnd = new TunnelEnd(exchange.clientEndPoint, getEndPoint(), exchange.clientExecutor,
                exchange.clientPool, exchange, Passage.CLIENT_TUNNEL, backendEnd);
            if (!exchange.switchProtocols(head.fields, clientEnd))
                getEndPoint().close();
        }

        private void unanswered(Throwable cause) {
            exchange.unreachable(cause);
            getEndPoint().close(cause);
        }

        @Override
        public ByteBuffer onUpgradeFrom() {
            return leftover;
        }

        @Override
        protected void onFillInterestedFailed(Throwable cause) {
            unanswered(cause);
        }

        @Override
        public boolean onIdleExpired(TimeoutException timeout) {
            // The tunnel takes this endpoint over as soon as the client has its 101; still here, it never will.
            if (switching)
                exchange.done(Passage.CLIENT_TUNNEL);
            return true;
        }

        @Override
        public void onClose(Throwable cause) {
            super.onClose(cause);
            // Also called when the tunnel takes over the still open endpoint.
            if (!getEndPoint().isOpen()) {
                if (!switching)
                    exchange.unreachable(cause != null ? cause : new EOFException("backend closed before answering"));
                exchange.done(Passage.BACKEND);
            }
        }
    }

    /** Collects the backend's answer from Jetty's parser: status, headers, and a small body. */
    private static final class ResponseHead implements HttpParser.ResponseHandler {
        private final HttpFields.Mutable fields = HttpFields.build();
        private final ByteArrayOutputStream body = new ByteArrayOutputStream();
        private int status;
        private String failure;

        @Override
        public void startResponse(HttpVersion version, int status, String reason) {
            this.status = status;
        }

        @Override
        public void parsedHeader(HttpField field) {
            fields.add(field);
        }

        @Override
        public boolean headerComplete() {
            return false;
        }

        @Override
        public boolean content(ByteBuffer chunk) {
            if (body.size() + chunk.remaining() > MAX_BODY_BYTES) {
                failure = "response body over " + MAX_BODY_BYTES + " bytes";
                return true;
            }
            body.writeBytes(BufferUtil.toArray(chunk));
            return false;
        }

        @Override
        public boolean contentComplete() {
            return false;
        }

        @Override
        public boolean messageComplete() {
            return true;
        }

        @Override
        public void earlyEOF() {
            failure = "backend closed in the middle of its answer";
        }

        @Override
        public void badMessage(HttpException x) {
            failure = "malformed answer: " + x.getReason();
        }

        void reset() {
            status = 0;
            fields.clear();
            body.reset();
        }
    }

    /**
     * One side of an open tunnel: copies what its endpoint reads to the other endpoint, and passes an EOF on as a
     * half-close. The client side is opened by Jetty after the 101 is written, and only then brings up the backend side,
     * so that nothing from the backend can overtake the 101.
     */
    private final class TunnelEnd extends AbstractConnection implements Connection.UpgradeTo {
        private final EndPoint peer;
        private final ByteBufferPool pool;
        private final Passage exchange;
        private final int part;
        private final TunnelEnd backendEnd;
        private final Pipe pipe = new Pipe();
        private ByteBuffer initial;

        TunnelEnd(EndPoint endPoint, EndPoint peer, Executor executor, ByteBufferPool pool, Passage exchange, int part,
                  TunnelEnd backendEnd) {
            super(endPoint, executor);
            this.peer = peer;
            this.pool = pool;
            this.exchange = exchange;
            this.part = part;
            this.backendEnd = backendEnd;
        }

        @Override
        public void onUpgradeTo(ByteBuffer buffer) {
            initial = buffer;
        }

        @Override
        public void onOpen() {
            super.onOpen();
            getEndPoint().setIdleTimeout(idleTimeoutMs);
            if (backendEnd != null)
                peer.upgrade(backendEnd);
            if (!getEndPoint().isOpen() || !peer.isOpen())
                closeBoth(new EOFException("tunnel closed before it opened"));
            else if (initial == null)
                fillInterested();
            else
                peer.write(Callback.from(this::fillInterested, this::closeBoth), initial);
        }

        @Override
        public void onFillable() {
            pipe.iterate();
        }

        @Override
        protected void onFillInterestedFailed(Throwable cause) {
            // Jetty's default half-closes and waits for another timeout; a tunnel ends both sides at once.
            closeBoth(cause);
        }

        @Override
        public boolean onIdleExpired(TimeoutException timeout) {
            // A side waiting for the other to drain is not idle; the other side's own timeout catches a stuck peer.
            return !pipe.writing;
        }

        @Override
        public void onClose(Throwable cause) {
            super.onClose(cause);
            peer.close(cause);
            exchange.done(part);
        }

        void abandon(Throwable cause) {
            peer.close(cause);
        }

        private void closeBoth(Throwable cause) {
            getEndPoint().close(cause);
            peer.close(cause);
        }

        /** Fill here, write there, repeat; the buffer is returned to the pool whenever the pipe waits for bytes. */
        private final class Pipe extends IteratingCallback {
            private RetainableByteBuffer buffer;
            private volatile boolean writing;

            @Override
            protected Action process() throws Throwable {
                if (buffer == null)
                    buffer = pool.acquire(BUFFER_SIZE, true);
                ByteBuffer bytes = buffer.getByteBuffer();
                int filled = getEndPoint().fill(bytes);
                if (filled > 0) {
                    writing = true;
                    peer.write(this, bytes);
                    return Action.SCHEDULED;
                }
                release();
                if (filled == 0) {
                    fillInterested();
                    return Action.IDLE;
                }
                peer.shutdownOutput();
                return Action.SUCCEEDED;
            }

            @Override
            protected void onSuccess() {
                writing = false;
            }

            @Override
            protected void onCompleteFailure(Throwable cause) {
                writing = false;
                release();
                closeBoth(cause);
            }

            @Override
            public InvocationType getInvocationType() {
                return InvocationType.NON_BLOCKING;
            }

            private void release() {
                if (buffer != null)
                    buffer.release();
                buffer = null;
            }
        }
    }
}
