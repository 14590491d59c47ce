// Harness serves the real Jolokia 1.7.1 core (Debian's libjolokia-core-java)
// over the JDK's com.sun.net.httpserver, wired the way the Jolokia JVM agent
// (org.jolokia.jvmagent) wires it, so that conformance_test.go can ask the
// real agent and the Go simulator the same questions.
//
// It registers test MBeans shaped like Cassandra's (same ObjectNames,
// attribute names, Java types and values as the Go side of the test),
// listens on 127.0.0.1 with an ephemeral port, prints "PORT <n>" on stdout,
// and exits when its stdin reaches end of file.
//
// Basic auth is on when JOLOKIA_HARNESS_USER (non-empty) and
// JOLOKIA_HARNESS_PASSWORD are set: the JVM agent installs a com.sun.net.httpserver.BasicAuthenticator
// (org.jolokia.jvmagent.security.UserPasswordAuthenticator, realm "jolokia")
// on its HttpContext; that class is not in jolokia-core, so it is
// reproduced here (AuthenticatorImpl).
//
// Build: javac -cp jolokia-core.jar:json-simple.jar -d <dir> Harness.java

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.UnsupportedEncodingException;
import java.io.Writer;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.text.SimpleDateFormat;
import java.util.Arrays;
import java.util.Calendar;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TimeZone;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.management.RuntimeMBeanException;
import javax.management.StandardMBean;

import com.sun.net.httpserver.BasicAuthenticator;
import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpContext;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpPrincipal;
import com.sun.net.httpserver.HttpServer;

import org.jolokia.backend.BackendManager;
import org.jolokia.config.ConfigKey;
import org.jolokia.config.Configuration;
import org.jolokia.http.HttpRequestHandler;
import org.jolokia.restrictor.RestrictorFactory;
import org.jolokia.util.AuthorizationHeaderParser;
import org.jolokia.util.IoUtil;
import org.jolokia.util.LogHandler;
import org.jolokia.util.MimeTypeUtil;
import org.json.simple.JSONAware;
import org.json.simple.JSONStreamAware;

public class Harness {

    // ---------------------------------------------------------------- MBeans
    // Values must stay equal to the Go MBeans in conformance_test.go.

    public interface StorageServiceMBean {
        List<String> getLiveNodes();
        List<String> getUnreachableNodes();
        List<String> getJoiningNodes();
        List<String> getLeavingNodes();
        List<String> getMovingNodes();
        String getOperationMode();
        String getReleaseVersion();
        Map<String, String> getHostIdMap();
        List<String> getKeyspaces();
        void decommission(boolean force) throws InterruptedException;
        int forceKeyspaceCleanup(String keyspaceName, String... tables) throws IOException;
        int forceKeyspaceCleanup(int jobs, String keyspaceName, String... tables) throws IOException;
        void drain() throws IOException;
    }

    public static class StorageService implements StorageServiceMBean {
        public List<String> getLiveNodes() { return Arrays.asList("10.0.0.1", "10.0.0.2", "10.0.0.3"); }
        public List<String> getUnreachableNodes() { return Arrays.asList("10.0.0.4"); }
        public List<String> getJoiningNodes() { return Collections.emptyList(); }
        public List<String> getLeavingNodes() { return Collections.emptyList(); }
        public List<String> getMovingNodes() { return Collections.emptyList(); }
        public String getOperationMode() { return "NORMAL"; }
        public String getReleaseVersion() { return "4.1.5"; }
        public Map<String, String> getHostIdMap() {
            Map<String, String> m = new HashMap<>();
            m.put("10.0.0.1", "6d194555-f6eb-41d0-c000-000000000001");
            m.put("10.0.0.2", "6d194555-f6eb-41d0-c000-000000000002");
            m.put("10.0.0.3", "6d194555-f6eb-41d0-c000-000000000003");
            m.put("10.0.0.4", "6d194555-f6eb-41d0-c000-000000000004");
            return m;
        }
        public List<String> getKeyspaces() { return Arrays.asList("system", "system_schema", "orders"); }
        public void decommission(boolean force) {
            if (!force) {
                throw new UnsupportedOperationException("Not enough live nodes to maintain replication factor in keyspace orders (RF = 3, N = 3). Perform a forceful decommission to ignore.");
            }
        }
        public int forceKeyspaceCleanup(String keyspaceName, String... tables) { return tables.length; }
        public int forceKeyspaceCleanup(int jobs, String keyspaceName, String... tables) { return 100 * jobs + tables.length; }
        public void drain() throws IOException { throw new IOException("drain interrupted"); }
    }

    public interface StorageProxyMBean {
        Map<String, List<String>> getSchemaVersions();
    }

    public static class StorageProxy implements StorageProxyMBean {
        public Map<String, List<String>> getSchemaVersions() {
            Map<String, List<String>> m = new HashMap<>();
            m.put("59adb24e-f3cd-3e02-97f0-5b395827453f", Arrays.asList("10.0.0.1", "10.0.0.2", "10.0.0.3"));
            m.put("UNREACHABLE", Arrays.asList("10.0.0.4"));
            return m;
        }
    }

    public interface FailureDetectorMBean {
        Map<String, String> getSimpleStates();
        int getDownEndpointCount();
    }

    public static class FailureDetector implements FailureDetectorMBean {
        public Map<String, String> getSimpleStates() {
            Map<String, String> m = new HashMap<>();
            m.put("/10.0.0.1", "UP");
            m.put("/10.0.0.2", "UP");
            m.put("/10.0.0.3", "UP");
            m.put("/10.0.0.4", "DOWN");
            return m;
        }
        public int getDownEndpointCount() { return 1; }
    }

    // Faulty is not Cassandra's: it carries the corners (a getter that
    // throws, a multi-key ObjectName, numbers and booleans).
    public interface FaultyMBean {
        String getBroken();
        String getChecked() throws IOException;
        long getLoad();
        boolean getEnabled();
        String echo(String s);
        long add(long a, int b);
    }

    public static class Faulty implements FaultyMBean {
        public String getBroken() { throw new IllegalStateException("gossip not settled"); }
        public String getChecked() throws IOException { throw new IOException("disk gone"); }
        public long getLoad() { return 1234567890123L; }
        public boolean getEnabled() { return true; }
        public String echo(String s) { return s; }
        public long add(long a, int b) { return a + b; }
    }

    static void registerMBeans() throws Exception {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        server.registerMBean(new StandardMBean(new StorageService(), StorageServiceMBean.class),
                new ObjectName("org.apache.cassandra.db:type=StorageService"));
        server.registerMBean(new StandardMBean(new StorageProxy(), StorageProxyMBean.class),
                new ObjectName("org.apache.cassandra.db:type=StorageProxy"));
        server.registerMBean(new StandardMBean(new FailureDetector(), FailureDetectorMBean.class),
                new ObjectName("org.apache.cassandra.net:type=FailureDetector"));
        server.registerMBean(new StandardMBean(new Faulty(), FaultyMBean.class),
                new ObjectName("ringops.test:type=Faulty,name=one"));
    }

    // --------------------------------------------------------- agent wiring

    public static void main(String[] args) throws Exception {
        registerMBeans();

        // The JVM agent's defaults (default-jolokia-agent.properties).
        Map<String, String> props = new LinkedHashMap<>();
        props.put("agentContext", "/jolokia");
        props.put("historyMaxEntries", "10");
        props.put("debug", "false");
        props.put("debugMaxEntries", "100");
        props.put("maxDepth", "15");
        props.put("maxCollectionSize", "0");
        props.put("maxObjects", "0");
        props.put("discoveryEnabled", "false");
        props.put("agentType", "jvm");
        props.put("agentId", org.jolokia.util.NetworkUtil.getAgentId(Harness.class.hashCode(), "jvm"));
        String user = System.getenv("JOLOKIA_HARNESS_USER");
        String password = System.getenv("JOLOKIA_HARNESS_PASSWORD");
        Configuration config = new Configuration();
        config.updateGlobalConfiguration(props);

        LogHandler log = new QuietLog();
        BackendManager backend = new BackendManager(config, log, RestrictorFactory.createRestrictor(config, log), false);
        HttpRequestHandler requestHandler = new HttpRequestHandler(config, backend, log);

        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 10);
        server.setExecutor(Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "jolokia-harness");
            t.setDaemon(true);
            return t;
        }));
        HttpContext ctx = server.createContext("/jolokia/", new AgentHandler(config, requestHandler, "/jolokia/"));
        if (user != null && !user.isEmpty() && password != null) {
            ctx.setAuthenticator(new AuthenticatorImpl("jolokia", user, password));
        }
        server.start();
        System.out.println("PORT " + server.getAddress().getPort());
        System.out.flush();

        InputStream in = System.in;
        while (in.read() != -1) {
            // wait for end of file
        }
        server.stop(0);
        backend.destroy();
        System.exit(0);
    }

    static class QuietLog implements LogHandler {
        public void debug(String m) {}
        public void info(String m) {}
        public void error(String m, Throwable t) { System.err.println("harness: " + m); }
    }

    // AuthenticatorImpl behaves as org.jolokia.jvmagent.security.UserPasswordAuthenticator:
    // JDK basic auth, plus the X-jolokia-authorization alternate header.
    static class AuthenticatorImpl extends BasicAuthenticator {
        private final String user;
        private final String password;

        AuthenticatorImpl(String realm, String user, String password) {
            // Cassandra 4 runs its agent on Java 11, whose BasicAuthenticator
            // challenges with 'Basic realm="jolokia"'; Java 17's default
            // (UTF-8) adds ', charset="UTF-8"'. Any other charset gives the
            // Java 11 challenge.
            super(realm, StandardCharsets.ISO_8859_1);
            this.user = user;
            this.password = password;
        }

        @Override
        public boolean checkCredentials(String u, String p) {
            return user.equals(u) && password.equals(p);
        }

        @Override
        public Result authenticate(HttpExchange ex) {
            if (ex.getRequestHeaders().getFirst("Authorization") == null) {
                String alt = ex.getRequestHeaders().getFirst("X-jolokia-authorization");
                if (alt != null) {
                    AuthorizationHeaderParser.Result r = AuthorizationHeaderParser.parse(alt);
                    if (r.isValid() && checkCredentials(r.getUser(), r.getPassword())) {
                        return new Success(new HttpPrincipal(r.getUser(), realm));
                    }
                }
            }
            return super.authenticate(ex);
        }
    }

    // AgentHandler does what org.jolokia.jvmagent.handler.JolokiaHttpHandler
    // (1.7.x) does around HttpRequestHandler: dispatch on the method, turn any
    // throwable into an error JSON, always answer HTTP 200 with the JSON,
    // streamed (chunked), as "<mimeType>; charset=utf-8".
    static class AgentHandler implements HttpHandler {
        private static final Pattern CHARSET = Pattern.compile(".*;\\s*charset=([^;,]+)\\s*.*");
        private final Configuration config;
        private final HttpRequestHandler handler;
        private final String context;

        AgentHandler(Configuration config, HttpRequestHandler handler, String context) {
            this.config = config;
            this.handler = handler;
            this.context = context;
        }

        public void handle(HttpExchange ex) throws IOException {
            try {
                doHandle(ex);
            } catch (SecurityException e) {
                String body = "403 (Forbidden)\n" + (e.getMessage() != null ? "\n" + e.getMessage() + "\n" : "");
                ex.sendResponseHeaders(403, body.length());
                try (OutputStream os = ex.getResponseBody()) {
                    os.write(body.getBytes());
                }
            }
        }

        private void doHandle(HttpExchange ex) throws IOException {
            URI uri = ex.getRequestURI();
            String pathInfo = uri.getPath();
            if (pathInfo.startsWith(context)) {
                pathInfo = pathInfo.substring(context.length());
            }
            while (pathInfo.startsWith("/") && pathInfo.length() > 1) {
                pathInfo = pathInfo.substring(1);
            }
            Map<String, String[]> params = parseQuery(uri.getQuery());
            JSONAware json = null;
            try {
                InetSocketAddress remote = ex.getRemoteAddress();
                handler.checkAccess(remote.getHostName(), remote.getAddress().getHostAddress(), originOrReferer(ex));
                String callback = first(params, ConfigKey.CALLBACK.getKeyValue());
                if (callback != null && !MimeTypeUtil.isValidCallback(callback)) {
                    throw new IllegalArgumentException("Invalid callback name given, which must be a valid javascript function name");
                }
                String method = ex.getRequestMethod();
                if ("GET".equalsIgnoreCase(method)) {
                    setHeaders(ex);
                    json = handler.handleGetRequest(uri.toString(), pathInfo, params);
                } else if ("POST".equalsIgnoreCase(method)) {
                    setHeaders(ex);
                    json = handler.handlePostRequest(uri.toString(), ex.getRequestBody(), charset(ex), params);
                } else if ("OPTIONS".equalsIgnoreCase(method)) {
                    Map<String, String> h = handler.handleCorsPreflightRequest(originOrReferer(ex),
                            ex.getRequestHeaders().getFirst("Access-Control-Request-Headers"));
                    for (Map.Entry<String, String> e : h.entrySet()) {
                        ex.getResponseHeaders().set(e.getKey(), e.getValue());
                    }
                } else {
                    throw new IllegalArgumentException("HTTP Method " + method + " is not supported.");
                }
            } catch (Throwable t) {
                json = handler.handleThrowable(t instanceof RuntimeMBeanException ? ((RuntimeMBeanException) t).getTargetException() : t);
            } finally {
                send(ex, params, json);
            }
        }

        private void send(HttpExchange ex, Map<String, String[]> params, JSONAware json) throws IOException {
            Headers h = ex.getResponseHeaders();
            if (json == null) {
                h.set("Content-Type", "text/plain");
                ex.sendResponseHeaders(200, -1);
                return;
            }
            String callback = first(params, ConfigKey.CALLBACK.getKeyValue());
            String mime = MimeTypeUtil.getResponseMimeType(first(params, ConfigKey.MIME_TYPE.getKeyValue()),
                    config.get(ConfigKey.MIME_TYPE), callback);
            h.set("Content-Type", mime + "; charset=utf-8");
            if (config.getAsBoolean(ConfigKey.STREAMING)) {
                ex.sendResponseHeaders(200, 0);
                Writer w = new OutputStreamWriter(ex.getResponseBody(), "UTF-8");
                IoUtil.streamResponseAndClose(w, (JSONStreamAware) json,
                        callback != null && MimeTypeUtil.isValidCallback(callback) ? callback : null);
            } else {
                String s = json.toJSONString();
                if (callback != null && MimeTypeUtil.isValidCallback(callback)) {
                    s = callback + "(" + s + ");";
                }
                byte[] b = s.getBytes("UTF-8");
                ex.sendResponseHeaders(200, b.length);
                try (OutputStream os = ex.getResponseBody()) {
                    os.write(b);
                }
            }
        }

        private void setHeaders(HttpExchange ex) {
            Headers h = ex.getResponseHeaders();
            String origin = handler.extractCorsOrigin(ex.getRequestHeaders().getFirst("Origin"));
            if (origin != null) {
                h.set("Access-Control-Allow-Origin", origin);
                h.set("Access-Control-Allow-Credentials", "true");
            }
            h.set("Cache-Control", "no-cache");
            h.set("Pragma", "no-cache");
            Calendar cal = Calendar.getInstance();
            h.set("Date", httpDate(cal));
            cal.add(Calendar.HOUR, -1);
            h.set("Expires", httpDate(cal));
        }

        private static String httpDate(Calendar cal) {
            SimpleDateFormat f = new SimpleDateFormat("EEE, dd MMM yyyy HH:mm:ss zzz", Locale.US);
            f.setTimeZone(TimeZone.getTimeZone("GMT"));
            return f.format(cal.getTime());
        }

        private String charset(HttpExchange ex) {
            String ct = ex.getRequestHeaders().getFirst("Content-Type");
            if (ct != null) {
                Matcher m = CHARSET.matcher(ct);
                if (m.matches()) {
                    return m.group(1);
                }
            }
            return null;
        }

        private static String originOrReferer(HttpExchange ex) {
            String o = ex.getRequestHeaders().getFirst("Origin");
            if (o == null) {
                o = ex.getRequestHeaders().getFirst("Referer");
            }
            return o != null ? o.replaceAll("[\\n\\r]*", "") : null;
        }

        private static String first(Map<String, String[]> params, String key) {
            String[] v = params.get(key);
            if (v == null) {
                return null;
            }
            return v.length == 0 ? "" : v[0];
        }

        // As the agent's ParsedUri: the query as URI.getQuery() decodes it, decoded
        // once more per name and value; "a=" is "", "a" alone is null.
        private static Map<String, String[]> parseQuery(String raw) throws UnsupportedEncodingException {
            Map<String, String[]> ret = new TreeMap<>();
            if (raw == null) {
                return ret;
            }
            for (String pair : raw.split("&")) {
                int eq = pair.indexOf('=');
                String name = eq < 0 ? pair : URLDecoder.decode(pair.substring(0, eq), "UTF-8");
                String value = eq < 0 ? null : URLDecoder.decode(pair.substring(eq + 1), "UTF-8");
                String[] old = ret.get(name);
                String[] now = old == null ? new String[1] : Arrays.copyOf(old, old.length + 1);
                now[now.length - 1] = value;
                ret.put(name, now);
            }
            return ret;
        }
    }
}
