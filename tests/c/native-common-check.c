/*
 * The portable logic of native/common on its own, built with nothing but the
 * C library and pthreads: event coalescing and the notification ring under
 * real threads, the byte queue, TLS record pieces, AT status lines and
 * AT%CMNG, key names, SHA-256 against FIPS 180-4's examples, the streaming
 * MCUboot check. Run by tests/native-common.test.ts (under AddressSanitizer
 * with UBSan, and under ThreadSanitizer); prints "ok"/"not ok" lines and
 * exits 1 when a check fails.
 */

#include "at-response.h"
#include "byte-queue.h"
#include "event-set.h"
#include "kv-name.h"
#include "line-ring.h"
#include "mcuboot-image.h"
#include "sha256.h"
#include "tls-chunk.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int gFailed = 0;

static void check(int condition, const char* what)
{
	printf("%s - %s\n", condition ? "ok" : "not ok", what);
	if (!condition)
		gFailed = 1;
}

/* ---- event-set ---- */

static void eventSetSingleThread(void)
{
	EventSet set;
	eventSetInit(&set);
	int first = eventSetRaise(&set, 1, 100);
	int second = eventSetRaise(&set, 4, 101);
	check(first == 1 && second == 0, "event set: the first raise posts, later ones ride along");
	check(eventSetRepostDue(&set, 200, 250) == 0 && eventSetRepostDue(&set, 400, 250) == 1 && eventSetRepostDue(&set, 401, 250) == 0,
		"event set: a message not delivered after the stale time is posted again, once");
	uint32_t bits = eventSetTake(&set);
	check(bits == 5 && eventSetPeek(&set) == 0, "event set: the delivery takes every raised bit");
	check(eventSetRaise(&set, 2, 500) == 1, "event set: after a delivery the next raise posts again");
	check(eventSetRepostDue(&set, 5000, 250) == 1, "event set: the repost check restamps");
	eventSetTake(&set);
	check(eventSetRepostDue(&set, 90000, 250) == 0, "event set: nothing pending, nothing to repost");
}

#define PRODUCERS 4
#define RAISES 50000

typedef struct {
	EventSet set;
	int queued;	/* messages in the stand-in queue */
	int maxQueued;
	long posts;
	long deliveries;
	uint32_t seen;
	int producersDone;
	pthread_mutex_t lock;
	pthread_cond_t wake;
} CoalescingRun;

typedef struct {
	CoalescingRun* run;
	int index;
} Producer;

static void* produce(void* argument)
{
	Producer* producer = argument;
	CoalescingRun* run = producer->run;
	for (int i = 0; i < RAISES; i++) {
		uint32_t bit = 1u << (producer->index * 4 + (i & 3));
		if (eventSetRaise(&run->set, bit, (uint32_t)i)) {
			pthread_mutex_lock(&run->lock);
			run->posts++;
			run->queued++;
			if (run->queued > run->maxQueued)
				run->maxQueued = run->queued;
			pthread_cond_signal(&run->wake);
			pthread_mutex_unlock(&run->lock);
		}
	}
	pthread_mutex_lock(&run->lock);
	run->producersDone++;
	pthread_cond_signal(&run->wake);
	pthread_mutex_unlock(&run->lock);
	return NULL;
}

static void eventSetThreads(void)
{
	CoalescingRun run;
	memset(&run, 0, sizeof(run));
	eventSetInit(&run.set);
	pthread_mutex_init(&run.lock, NULL);
	pthread_cond_init(&run.wake, NULL);
	pthread_t threads[PRODUCERS];
	Producer producers[PRODUCERS];
	for (int i = 0; i < PRODUCERS; i++) {
		producers[i].run = &run;
		producers[i].index = i;
		pthread_create(&threads[i], NULL, produce, &producers[i]);
	}
	/* The XS thread: takes a message off the queue, then the bits. */
	pthread_mutex_lock(&run.lock);
	for (;;) {
		while (run.queued == 0 && run.producersDone < PRODUCERS)
			pthread_cond_wait(&run.wake, &run.lock);
		if (run.queued == 0)
			break;
		run.queued--;
		pthread_mutex_unlock(&run.lock);
		run.seen |= eventSetTake(&run.set);
		run.deliveries++;
		pthread_mutex_lock(&run.lock);
	}
	pthread_mutex_unlock(&run.lock);
	for (int i = 0; i < PRODUCERS; i++)
		pthread_join(threads[i], NULL);
	run.seen |= eventSetTake(&run.set);
	check(run.maxQueued == 1, "event set under 4 threads: never more than one message in the queue");
	check(run.seen == 0xFFFF, "event set under 4 threads: every raised bit is delivered");
	check(run.posts == run.deliveries && run.posts < (long)PRODUCERS * RAISES, "event set under 4 threads: one delivery per post, far fewer posts than raises");
	pthread_mutex_destroy(&run.lock);
	pthread_cond_destroy(&run.wake);
}

/* ---- line-ring ---- */

static void lineRingSingle(void)
{
	uint8_t storage[70];	/* 64 used */
	LineRing ring;
	char out[16];
	lineRingInit(&ring, storage, sizeof(storage));
	check(ring.capacity == 64, "line ring: the storage used is a power of two");
	check(lineRingTake(&ring, out, sizeof(out)) == -1, "line ring: empty at first");
	lineRingPut(&ring, "+CEREG: 2", 9);
	lineRingPut(&ring, "+CEREG: 1", 9);
	int a = lineRingTake(&ring, out, sizeof(out));
	int same = !strcmp(out, "+CEREG: 2");
	int b = lineRingTake(&ring, out, sizeof(out));
	check(a == 9 && same && b == 9 && !strcmp(out, "+CEREG: 1"), "line ring: lines come out in order");
	int stored = 0;
	for (int i = 0; i < 10; i++)
		stored += lineRingPut(&ring, "0123456789", 10);
	check(stored == 5 && lineRingTakeDropped(&ring) == 5 && lineRingTakeDropped(&ring) == 0, "line ring: a full ring drops new lines and counts them");
	char small[4];
	check(lineRingTake(&ring, small, sizeof(small)) == 10 && !strcmp(small, "012"), "line ring: a line longer than the buffer is cut, its length reported");
	int order = 1;
	for (int i = 0; i < 1000; i++) {
		char line[16];
		snprintf(line, sizeof(line), "%d", i);
		while (lineRingTake(&ring, out, sizeof(out)) >= 0)
			;
		lineRingPut(&ring, line, strlen(line));
		order &= lineRingTake(&ring, out, sizeof(out)) >= 0 && !strcmp(out, line);
	}
	check(order, "line ring: positions wrap around the storage many times");
}

#define LINES 200000
static int gProducerDone;

static void* produceLines(void* argument)
{
	LineRing* ring = argument;
	for (int i = 0; i < LINES; i++) {
		char line[16];
		int length = snprintf(line, sizeof(line), "L%d", i);
		lineRingPut(ring, line, (size_t)length);
	}
	__atomic_store_n(&gProducerDone, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void lineRingThreads(void)
{
	static uint8_t storage[512];
	LineRing ring;
	lineRingInit(&ring, storage, sizeof(storage));
	pthread_t producer;
	pthread_create(&producer, NULL, produceLines, &ring);
	long received = 0, dropped = 0;
	int last = -1, ordered = 1;
	for (;;) {
		char line[16];
		int length = lineRingTake(&ring, line, sizeof(line));
		if (length < 0) {
			if (__atomic_load_n(&gProducerDone, __ATOMIC_ACQUIRE)) {
				pthread_join(producer, NULL);
				while (lineRingTake(&ring, line, sizeof(line)) >= 0) {
					int n = atoi(line + 1);
					ordered &= n > last;
					last = n;
					received++;
				}
				break;
			}
			continue;
		}
		int n = atoi(line + 1);
		ordered &= line[0] == 'L' && n > last;
		last = n;
		received++;
		dropped += lineRingTakeDropped(&ring);
	}
	dropped += lineRingTakeDropped(&ring);
	check(ordered && received + dropped == LINES, "line ring between two threads: lines intact and in order, each one received or counted as dropped");
}

/* ---- byte-queue and tls-chunk ---- */

static void byteQueue(void)
{
	ByteQueue queue;
	byteQueueInit(&queue, 5000);
	uint8_t block[3000];
	memset(block, 7, sizeof(block));
	int a = byteQueueAppend(&queue, block, 3000);
	int b = byteQueueAppend(&queue, block, 3000);
	check(a && !b && queue.length == 3000 && byteQueueSpace(&queue) == 2000, "byte queue: appends within the limit, refuses beyond it whole");
	byteQueueConsume(&queue, 1000);
	check(queue.length == 2000 && queue.data[0] == 7 && byteQueueAppend(&queue, block, 3000) && queue.length == 5000 && queue.capacity <= 5000,
		"byte queue: consumes from the front and grows no larger than the limit");
	byteQueueFree(&queue);
	uint8_t storage[100];
	byteQueueInitFixed(&queue, storage, sizeof(storage));
	check(byteQueueAppend(&queue, block, 100) && !byteQueueReserve(&queue, 1) && queue.data == storage, "byte queue: a fixed queue stays in its storage");
	byteQueueFree(&queue);
}

typedef struct {
	uint8_t received[20000];
	size_t length;
	size_t largest;
	int calls;
	int blockEvery;
	int failAt;
} FakeSocket;

static int fakeSend(void* context, const uint8_t* bytes, size_t length)
{
	FakeSocket* socket = context;
	socket->calls++;
	if (socket->failAt && socket->calls == socket->failAt)
		return TLS_CHUNK_FAILED;
	if (socket->blockEvery && socket->calls % socket->blockEvery == 0)
		return TLS_CHUNK_WOULD_BLOCK;
	if (length > socket->largest)
		socket->largest = length;
	size_t take = length > 1500 ? length - 100 : length;	/* the modem may take less than offered */
	memcpy(socket->received + socket->length, bytes, take);
	socket->length += take;
	return (int)take;
}

static void tlsChunks(void)
{
	uint8_t data[10000];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 31 + 7);
	ByteQueue queue;
	byteQueueInit(&queue, sizeof(data));
	byteQueueAppend(&queue, data, sizeof(data));
	static FakeSocket socket;
	memset(&socket, 0, sizeof(socket));
	int ok = tlsChunkFlush(&queue, TLS_CHUNK_LIMIT, fakeSend, &socket);
	check(ok && queue.length == 0 && socket.length == sizeof(data) && !memcmp(socket.received, data, sizeof(data)) && socket.largest <= 2048,
		"TLS pieces: 10000 bytes go out in order, no piece over the modem's 2048");
	byteQueueAppend(&queue, data, sizeof(data));
	memset(&socket, 0, sizeof(socket));
	socket.blockEvery = 3;
	ok = tlsChunkFlush(&queue, TLS_CHUNK_LIMIT, fakeSend, &socket);
	size_t left = queue.length;
	check(ok && left > 0 && socket.length + left == sizeof(data) && !memcmp(queue.data, data + socket.length, left),
		"TLS pieces: a send that would block stops the flush and keeps the rest queued");
	memset(&socket, 0, sizeof(socket));
	socket.failAt = 1;
	check(!tlsChunkFlush(&queue, TLS_CHUNK_LIMIT, fakeSend, &socket) && queue.length == left, "TLS pieces: a failed send is reported and drops nothing");
	check(tlsChunkSize(5000, 2048) == 2048 && tlsChunkSize(10, 2048) == 10, "TLS pieces: piece size");
	byteQueueFree(&queue);
}

/* ---- at-response ---- */

static int finished(const char* input, int result, const char* expected, size_t size)
{
	char buffer[256];
	snprintf(buffer, sizeof(buffer), "%s", input);
	atResponseFinish(buffer, size, result);
	return !strcmp(buffer, expected);
}

static void atResponse(void)
{
	char line[32];
	int ok = atStatusLine(0, line, sizeof(line)) && !strcmp(line, "OK");
	ok &= atStatusLine(1 << 16, line, sizeof(line)) && !strcmp(line, "ERROR");
	ok &= atStatusLine((2 << 16) | 518, line, sizeof(line)) && !strcmp(line, "+CME ERROR: 518");
	ok &= atStatusLine((3 << 16) | 304, line, sizeof(line)) && !strcmp(line, "+CMS ERROR: 304");
	ok &= !atStatusLine(-12, line, sizeof(line));
	check(ok, "AT status lines from nrf_modem_at_cmd results (0, ERROR, +CME, +CMS; none for a library errno)");
	check(finished("352656100441776\r\nOK\r\n", 0, "352656100441776\r\nOK\r\n", 256)
		&& finished("352656100441776\r\n", 0, "352656100441776\r\nOK\r\n", 256)
		&& finished("", 0, "OK\r\n", 256)
		&& finished("+CME ERROR: 518\r\n", (2 << 16) | 518, "+CME ERROR: 518\r\n", 256)
		&& finished("ERROR", 1 << 16, "ERROR\r\n", 256)
		&& finished("%XMODEMUUID: 1\r\nOK", 0, "%XMODEMUUID: 1\r\nOK\r\n", 256)
		&& finished("garbage", (2 << 16) | 514, "garbage\r\n+CME ERROR: 514\r\n", 256),
		"AT responses end in exactly one status line, the result's");
	check(finished("0123456789012345678901234567890123456789", 0, "OK\r\n", 16) && finished("abc", 0, "", 3),
		"AT responses too long for the buffer keep the status line alone, or nothing");
	AtCmng c;
	int write = atParseCmng("AT%CMNG=0,16842753,1,\"-----BEGIN CERTIFICATE-----\nAB\n\"", &c) == 1 && c.opcode == 0 && c.tag == 16842753 && c.type == 1
		&& c.contentLength == 31 && !memcmp(c.content, "-----BEGIN", 10) && !c.hasPassphrase;
	int list = atParseCmng("at%cmng=1", &c) == 1 && c.opcode == 1 && c.tag == -1 && c.type == -1 && !c.content;
	int passphrase = atParseCmng("AT%CMNG=0,1,2,\"k\",\"p\"", &c) == 1 && c.hasPassphrase && c.contentLength == 1;
	check(write && list && passphrase, "AT%CMNG arguments: write with content, list, passphrase; any letter case");
	check(atParseCmng("AT+CGSN", &c) == 0 && atParseCmng("AT%CMNG=", &c) == -1 && atParseCmng("AT%CMNG=0,1,7", &c) == -1
		&& atParseCmng("AT%CMNG=0,1,0,\"open", &c) == -1 && atParseCmng("AT%CMNG=1,2x", &c) == -1 && atParseCmng("AT%CMNG=3,99999999999,0", &c) == -1,
		"AT%CMNG arguments: other commands are not AT%CMNG; malformed ones are refused");
}

/* ---- kv-name ---- */

static void kvNames(void)
{
	char name[200];
	char long65[66];
	memset(long65, 'a', 65);
	long65[65] = 0;
	check(kvValidName("nrf_cloud") && kvValidName("fota.job") && !kvValidName("") && !kvValidName(".hidden") && !kvValidName("a/b") && !kvValidName(long65) && kvValidName(long65 + 1),
		"key names: 1 to 64 of A-Z a-z 0-9 _ - . not starting with a dot");
	check(kvJoin(name, sizeof(name), "nrf_cloud", "p_sesh") && !strcmp(name, "nrf_cloud/p_sesh") && !kvJoin(name, 8, "nrf_cloud", "p_sesh"),
		"key names: the settings name is domain/key, or nothing when it does not fit");
	check(kvIsDirectKey("p_sesh") && !kvIsDirectKey("fota/job") && !kvIsDirectKey(NULL), "key names: only the domain's own keys are listed");
}

/* ---- sha256 ---- */

static int digestIs(const uint8_t digest[32], const char* hex)
{
	char text[65];
	for (int i = 0; i < 32; i++)
		snprintf(text + i * 2, 3, "%02x", digest[i]);
	return !strcmp(text, hex);
}

static void sha256Vectors(void)
{
	uint8_t digest[32];
	sha256("abc", 3, digest);
	int abc = digestIs(digest, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	sha256("", 0, digest);
	int empty = digestIs(digest, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	const char* two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	sha256(two, strlen(two), digest);
	int twoBlocks = digestIs(digest, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	check(abc && empty && twoBlocks, "SHA-256: FIPS 180-4 examples (abc, empty, two blocks)");
	Sha256 hash;
	sha256Init(&hash);
	static uint8_t million[1001];
	memset(million, 'a', sizeof(million));
	for (int i = 0; i < 1000; i++)
		sha256Update(&hash, million, (size_t)(i % 2 ? 999 : 1001));
	sha256Final(&hash, digest);
	check(digestIs(digest, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"), "SHA-256: a million a's, fed in uneven pieces");
}

/* ---- mcuboot-image ---- */

static void put16(uint8_t* p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t* p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }

/* An MCUboot image: 32-byte header, body, protected TLVs when asked, then the TLV area with the SHA-256. */
static size_t makeImage(uint8_t* image, uint32_t bodySize, int withProtected)
{
	memset(image, 0, 32);
	put32(image, MCUBOOT_IMAGE_MAGIC);
	put16(image + 8, 32);
	uint16_t protectedSize = withProtected ? 12 : 0;
	put16(image + 10, protectedSize);
	put32(image + 12, bodySize);
	image[20] = 1;
	image[21] = 2;
	put16(image + 22, 3);
	put32(image + 24, 4);
	for (uint32_t i = 0; i < bodySize; i++)
		image[32 + i] = (uint8_t)(i * 13);
	size_t at = 32 + bodySize;
	if (withProtected) {
		put16(image + at, MCUBOOT_TLV_PROTECTED_MAGIC);
		put16(image + at + 2, protectedSize);
		put16(image + at + 4, 0x50);
		put16(image + at + 6, 4);
		put32(image + at + 8, 0x12345678);
		at += protectedSize;
	}
	uint8_t digest[32];
	sha256(image, at, digest);
	put16(image + at, MCUBOOT_TLV_INFO_MAGIC);
	put16(image + at + 2, 4 + 4 + 32);
	put16(image + at + 4, MCUBOOT_TLV_SHA256);
	put16(image + at + 6, 32);
	memcpy(image + at + 8, digest, 32);
	return at + 40;
}

static const char* checkInPieces(const uint8_t* image, size_t size, size_t piece, char* version)
{
	McubootCheck check;
	mcubootCheckInit(&check);
	for (size_t at = 0; at < size; at += piece)
		mcubootCheckFeed(&check, image + at, size - at < piece ? size - at : piece);
	return mcubootCheckFinish(&check, version, 48);
}

static void mcubootImages(void)
{
	static uint8_t image[9000];
	char version[48];
	size_t size = makeImage(image, 8000, 0);
	int whole = checkInPieces(image, size, size, version) == NULL && !strcmp(version, "1.2.3+4");
	int pieces = 1;
	size_t sizes[] = { 1, 7, 31, 32, 33, 512, 4096 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		pieces &= checkInPieces(image, size, sizes[i], version) == NULL;
	check(whole && pieces, "MCUboot check: a valid image passes whole and in pieces of 1 to 4096 bytes, with its version");
	size_t protectedImage = makeImage(image, 500, 1);
	check(checkInPieces(image, protectedImage, 3, version) == NULL, "MCUboot check: protected TLVs are hashed and their magic checked");
	image[200] ^= 1;
	const char* damaged = checkInPieces(image, protectedImage, 64, version);
	check(damaged && strstr(damaged, "does not match"), "MCUboot check: one flipped bit in the body is refused");
	image[200] ^= 1;
	image[0] ^= 1;
	const char* magic = checkInPieces(image, protectedImage, 64, version);
	check(magic && strstr(magic, "header magic"), "MCUboot check: a bad header magic is refused");
	image[0] ^= 1;
	const char* truncated = checkInPieces(image, protectedImage - 20, 64, version);
	check(truncated != NULL, "MCUboot check: a truncated image is refused");
}

int main(void)
{
	eventSetSingleThread();
	eventSetThreads();
	lineRingSingle();
	lineRingThreads();
	byteQueue();
	tlsChunks();
	atResponse();
	kvNames();
	sha256Vectors();
	mcubootImages();
	return gFailed;
}
