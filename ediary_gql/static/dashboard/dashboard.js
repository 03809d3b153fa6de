// The school's live attendance page: sign in, pick a date, follow every class's counts
// (attendanceSummary) and the marks as they arrive (attendanceEvents) over graphql-transport-ws.
// The tokens live in this module's memory only: never in the browser's storage or cookies.
import { LiveClient } from "./transport-ws.js";

// The API: /graphql of this page's origin, or the address in <meta name="ediary-api"> when
// the page is served from elsewhere (the API then lists this origin in CORS_ORIGINS).
const API_BASE = (document.querySelector('meta[name="ediary-api"]') || {}).content || window.location.href;
const GRAPHQL_URL = new URL("/graphql", API_BASE).toString();
const WS_URL = (() => {
  const url = new URL("/graphql", API_BASE);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.toString();
})();
// the server allows 20 subscriptions per socket (WS_MAX_SUBSCRIPTIONS): a big school gets several sockets
const SUBSCRIPTIONS_PER_SOCKET = 15;
const FEED_LIMIT = 50;
// School has no time zone field in the API yet; schools default to Moscow time
const SCHOOL_ZONE = "Europe/Moscow";

const STATUS_TEXT = {
  PRESENT: "присутствует",
  ABSENT: "отсутствует",
  LATE: "опоздал(а)",
  EXCUSED: "уважительная причина",
  SICK: "болеет",
};

const SIGN_IN = `mutation SignIn($input: SignInInput!) {
  signIn(input: $input) {
    accessToken refreshToken retryAfterSeconds
    userErrors { field code message }
  }
}`;
const REFRESH = `mutation Refresh($input: RefreshTokenInput!) {
  refreshToken(input: $input) { accessToken refreshToken userErrors { code message } }
}`;
const SIGN_OUT = `mutation { signOut { userErrors { code } } }`;
const ME = `query Me { me { id fullName memberships { schoolId role } } }`;
const SCHOOL = `query School($id: ID!) {
  school(id: $id) {
    id shortName
    classes { id name academicYear { startsOn endsOn } teachers { teacher { id } } }
  }
}`;
const SUMMARY = `subscription Summary($classId: ID!, $date: Date!, $after: String) {
  attendanceSummary(classId: $classId, date: $date, after: $after) {
    classId date lessons children cursor
    counts { present absent late excused sick unmarked }
  }
}`;
const EVENTS = `subscription Events($classId: ID, $schoolId: ID, $after: String) {
  attendanceEvents(classId: $classId, schoolId: $schoolId, after: $after) {
    cursor
    lesson { id date lessonNumber schoolClass { id name } subject { name } }
    marks { id status minutesLate markedAt child { fullName } }
  }
}`;
const STATS_FIELDS = `attendanceRate groups { classId label attendanceRate counts { present absent late excused sick marked } }`;

const $ = (id) => document.getElementById(id);

const state = {
  accessToken: null,
  refreshToken: null,
  me: null,
  schools: [], // [{ id, role }]
  school: null, // { id, shortName, role, classes }
  clients: [],
  stops: [],
  seenMarks: new Map(), // mark id -> status|markedAt already shown in the feed
};

// --- HTTP -------------------------------------------------------------------------------

async function graphql(query, variables = {}, { token = state.accessToken } = {}) {
  const headers = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(GRAPHQL_URL, {
    method: "POST",
    headers,
    body: JSON.stringify({ query, variables }),
    credentials: "omit",
    cache: "no-store",
  });
  let body;
  try {
    body = await response.json();
  } catch {
    throw new Error(`Сервер ответил ${response.status}`);
  }
  if (response.status === 401 && token && state.refreshToken && (await refresh())) {
    return graphql(query, variables);
  }
  if (body.errors && body.errors.length) {
    const error = new Error(body.errors[0].message || "Ошибка запроса");
    error.code = body.errors[0].extensions && body.errors[0].extensions.code;
    throw error;
  }
  return body.data;
}

async function refresh() {
  if (!state.refreshToken) return false;
  try {
    const data = await graphql(REFRESH, { input: { refreshToken: state.refreshToken } }, { token: null });
    const payload = data.refreshToken;
    if (!payload.accessToken) return false;
    state.accessToken = payload.accessToken;
    state.refreshToken = payload.refreshToken || state.refreshToken;
    return true;
  } catch {
    return false;
  }
}

// --- sign-in ------------------------------------------------------------------------------

function showSignInError(text) {
  const box = $("signin-error");
  box.textContent = text;
  box.hidden = !text;
}

async function onSignIn(event) {
  event.preventDefault();
  const login = $("login").value.trim();
  const password = $("password").value;
  const totp = $("totp").value.trim();
  if (!login || !password) {
    showSignInError("Введите телефон или почту и пароль.");
    (login ? $("password") : $("login")).focus();
    return;
  }
  const button = $("signin-button");
  button.disabled = true;
  showSignInError("");
  try {
    const input = { login, password, totpCode: totp || null };
    const payload = (await graphql(SIGN_IN, { input }, { token: null })).signIn;
    if (!payload.accessToken) {
      const first = payload.userErrors[0];
      showSignInError(first ? first.message : "Войти не удалось.");
      return;
    }
    state.accessToken = payload.accessToken;
    state.refreshToken = payload.refreshToken;
    $("password").value = "";
    $("totp").value = "";
    await openBoard();
  } catch (error) {
    showSignInError(`Войти не удалось: ${error.message}`);
  } finally {
    button.disabled = false;
  }
}

async function signOut() {
  stopLive();
  const token = state.accessToken;
  Object.assign(state, { accessToken: null, refreshToken: null, me: null, schools: [], school: null });
  if (token) graphql(SIGN_OUT, {}, { token }).catch(() => {});
  $("board").hidden = true;
  $("signin").hidden = false;
  setConnection("closed");
  $("login").focus();
}

// --- the board ------------------------------------------------------------------------------

function todayAtSchool() {
  // en-CA formats as YYYY-MM-DD
  return new Intl.DateTimeFormat("en-CA", { timeZone: SCHOOL_ZONE }).format(new Date());
}

function boardMessage(text) {
  const box = $("board-message");
  box.textContent = text;
  box.hidden = !text;
}

async function openBoard() {
  const me = (await graphql(ME)).me;
  if (!me) throw new Error("нет сеанса");
  const schools = new Map();
  for (const m of me.memberships) {
    if (m.role === "SCHOOL_ADMIN") schools.set(m.schoolId, "SCHOOL_ADMIN");
    else if (m.role === "TEACHER" && !schools.has(m.schoolId)) schools.set(m.schoolId, "TEACHER");
  }
  if (!schools.size) {
    // nothing here for this account: end the session it has just opened
    graphql(SIGN_OUT).catch(() => {});
    state.accessToken = null;
    state.refreshToken = null;
    throw new Error("страница для администраторов школы и учителей");
  }
  state.me = me;
  state.schools = [...schools].map(([id, role]) => ({ id, role }));
  $("signin").hidden = true;
  $("board").hidden = false;
  const date = todayAtSchool();
  $("date").value = date;
  $("stats-to").value = date;
  $("stats-from").value = `${date.slice(0, 8)}01`;
  await fillSchools();
  $("date").focus();
}

async function fillSchools() {
  const select = $("school");
  select.replaceChildren();
  const loaded = [];
  for (const entry of state.schools) {
    const school = (await graphql(SCHOOL, { id: entry.id })).school;
    if (!school) continue;
    loaded.push({ ...school, role: entry.role });
    const option = document.createElement("option");
    option.value = school.id;
    option.textContent = school.shortName;
    select.append(option);
  }
  state.loadedSchools = loaded;
  $("school-field").hidden = loaded.length < 2;
  if (!loaded.length) {
    boardMessage("Нет школы, классы которой вам видны.");
    return;
  }
  await chooseSchool(loaded[0].id);
}

function visibleClasses(school, date) {
  let classes = school.classes || [];
  if (school.role === "TEACHER") {
    classes = classes.filter((c) => c.teachers.some((t) => t.teacher && t.teacher.id === state.me.id));
  }
  // the classes of the academic year the date is in (or, between years, of the newest one)
  const current = classes.filter((c) => c.academicYear.startsOn <= date && date <= c.academicYear.endsOn);
  if (current.length) return current;
  const newest = classes.reduce((best, c) => (c.academicYear.startsOn > best ? c.academicYear.startsOn : best), "");
  return classes.filter((c) => c.academicYear.startsOn === newest);
}

async function chooseSchool(id) {
  state.school = state.loadedSchools.find((s) => s.id === id) || null;
  const role = state.school && state.school.role === "SCHOOL_ADMIN" ? "администратор" : "учитель";
  $("who").textContent = state.school ? `${state.me.fullName} · ${role} · ${state.school.shortName}` : "";
  startLive();
  loadStatistics();
}

// --- live -------------------------------------------------------------------------------

function setConnection(status) {
  const box = $("connection");
  const text = {
    connecting: "Подключение…",
    open: "В эфире",
    waiting: "Связь потеряна, переподключение…",
    closed: "Не подключено",
  };
  // several sockets: the worst state is shown
  const states = state.clients.map((c) => c.status || "connecting");
  const shown = status === "closed" || !states.length
    ? status
    : ["waiting", "connecting", "open"].find((s) => states.includes(s)) || status;
  box.dataset.state = shown;
  box.textContent = text[shown];
}

function stopLive() {
  for (const stop of state.stops) stop();
  for (const client of state.clients) client.close();
  state.stops = [];
  state.clients = [];
}

function newClient() {
  const client = new LiveClient(WS_URL, {
    token: () => state.accessToken,
    onState: (status) => {
      client.status = status;
      setConnection(status);
    },
    onRefused: async () => {
      if (await refresh()) return true;
      boardMessage("Сеанс закончился: войдите снова.");
      signOut();
      return false;
    },
  });
  state.clients.push(client);
  return client;
}

function follow(subscription) {
  let client = state.clients[state.clients.length - 1];
  if (!client || client.subscriptions.size >= SUBSCRIPTIONS_PER_SOCKET) client = newClient();
  state.stops.push(client.subscribe(subscription));
}

function startLive() {
  stopLive();
  boardMessage("");
  $("feed").replaceChildren();
  $("feed-empty").hidden = false;
  state.seenMarks.clear();
  const cards = $("cards");
  cards.replaceChildren();
  if (!state.school) return;
  const date = $("date").value || todayAtSchool();
  const classes = visibleClasses(state.school, date);
  if (!classes.length) {
    boardMessage("Классов нет.");
    return;
  }
  for (const schoolClass of classes) {
    const card = makeCard(schoolClass);
    cards.append(card);
    follow({
      query: SUMMARY,
      variables: { classId: schoolClass.id, date, after: null },
      cursorOf: (data) => data && data.attendanceSummary && data.attendanceSummary.cursor,
      onData: (data) => showSummary(card, data.attendanceSummary),
      onError: (code, message) => showCardError(card, code, message),
    });
  }
  const feed = {
    cursorOf: (data) => data && data.attendanceEvents && data.attendanceEvents.cursor,
    onData: (data) => addToFeed(data.attendanceEvents, date),
    onError: (code, message) => boardMessage(`Лента отметок недоступна: ${message || code}`),
  };
  if (state.school.role === "SCHOOL_ADMIN") {
    follow({ query: EVENTS, variables: { schoolId: state.school.id, after: null }, ...feed });
  } else {
    for (const schoolClass of classes) {
      follow({ query: EVENTS, variables: { classId: schoolClass.id, after: null }, ...feed });
    }
  }
}

function makeCard(schoolClass) {
  const card = $("card-template").content.firstElementChild.cloneNode(true);
  card.dataset.classId = schoolClass.id;
  const title = card.querySelector(".card-title");
  title.textContent = schoolClass.name;
  title.id = `class-${schoolClass.id}`;
  card.querySelector("article").setAttribute("aria-labelledby", title.id);
  card.querySelector(".card-lessons").textContent = "Загрузка…";
  return card;
}

function percent(value) {
  return `${Math.round(value * 100)}%`;
}

function showSummary(card, summary) {
  const counts = summary.counts;
  for (const [name, value] of Object.entries(counts)) {
    const cell = card.querySelector(`[data-count="${name}"]`);
    if (cell) cell.textContent = String(value);
  }
  const marked = counts.present + counts.absent + counts.late + counts.excused + counts.sick;
  const rate = marked ? (counts.present + counts.late) / marked : null;
  card.querySelector(".rate-value").textContent = rate === null ? "—" : percent(rate);
  const meter = card.querySelector(".card-meter");
  meter.value = rate === null ? 0 : rate;
  meter.textContent = rate === null ? "нет отметок" : percent(rate);
  meter.setAttribute("aria-label", `Посещено: ${rate === null ? "нет отметок" : percent(rate)}`);
  // unmarked counts places (child × lesson); a teacher marks a lesson's class at once, so
  // whole lessons are what is still owed
  const unmarkedLessons = summary.children ? Math.ceil(counts.unmarked / summary.children) : 0;
  card.querySelector(".card-lessons").textContent =
    `Уроков: ${summary.lessons}, не отмечено: ${unmarkedLessons} · учеников: ${summary.children}`;
  card.querySelector(".card-error").hidden = true;
  card.classList.add("changed");
  setTimeout(() => card.classList.remove("changed"), 1500);
}

function showCardError(card, code, message) {
  const box = card.querySelector(".card-error");
  box.textContent = code === "FORBIDDEN" ? "Нет доступа к этому классу." : `Ошибка: ${message || code}`;
  box.hidden = false;
}

function timeOf(iso) {
  return new Intl.DateTimeFormat("ru-RU", { hour: "2-digit", minute: "2-digit", timeZone: SCHOOL_ZONE }).format(
    new Date(iso),
  );
}

function addToFeed(event, date) {
  if (!event || !event.lesson || event.lesson.date !== date) return;
  const list = $("feed");
  const lesson = event.lesson;
  for (const mark of event.marks) {
    const key = `${mark.status}|${mark.markedAt}`;
    if (state.seenMarks.get(mark.id) === key) continue; // unchanged marks of the same lesson
    state.seenMarks.set(mark.id, key);
    const item = document.createElement("li");
    const time = document.createElement("time");
    time.dateTime = mark.markedAt;
    time.textContent = timeOf(mark.markedAt);
    const where = [lesson.schoolClass && lesson.schoolClass.name, lesson.subject && lesson.subject.name]
      .filter(Boolean)
      .join(", ");
    const number = lesson.lessonNumber ? `, ${lesson.lessonNumber}-й урок` : "";
    const late = mark.status === "LATE" && mark.minutesLate ? ` на ${mark.minutesLate} мин` : "";
    item.append(time, `${where}${number}: ${mark.child ? mark.child.fullName : "ученик"} — ${STATUS_TEXT[mark.status] || mark.status}${late}`);
    list.prepend(item);
  }
  while (list.children.length > FEED_LIMIT) list.lastElementChild.remove();
  $("feed-empty").hidden = list.children.length > 0;
}

// --- statistics over a date range (once, on demand) ---------------------------------------

async function loadStatistics(event) {
  if (event) event.preventDefault();
  const from = $("stats-from").value;
  const to = $("stats-to").value;
  const message = $("stats-message");
  const table = $("stats-table");
  if (!state.school || !from || !to) return;
  if (from > to) {
    message.textContent = "Начало периода позже его конца.";
    return;
  }
  message.textContent = "Загрузка…";
  try {
    let groups;
    if (state.school.role === "SCHOOL_ADMIN") {
      const query = `query Stats($from: Date!, $to: Date!, $school: ID!) {
        attendanceStatistics(from: $from, to: $to, groupBy: CLASS, schoolId: $school) { ${STATS_FIELDS} }
      }`;
      groups = (await graphql(query, { from, to, school: state.school.id })).attendanceStatistics.groups;
    } else {
      // a teacher: the statistics of each of their classes, in one request
      const classes = visibleClasses(state.school, $("date").value || to).slice(0, 20);
      if (!classes.length) {
        table.hidden = true;
        message.textContent = "";
        return;
      }
      const args = classes.map((_, i) => `$c${i}: ID!`).join(", ");
      const fields = classes
        .map((_, i) => `s${i}: attendanceStatistics(from: $from, to: $to, groupBy: CLASS, classId: $c${i}) { ${STATS_FIELDS} }`)
        .join("\n");
      const variables = { from, to };
      classes.forEach((c, i) => (variables[`c${i}`] = c.id));
      const data = await graphql(`query Stats($from: Date!, $to: Date!, ${args}) { ${fields} }`, variables);
      groups = classes.flatMap((_, i) => data[`s${i}`].groups);
    }
    const body = $("stats-body");
    body.replaceChildren();
    for (const group of groups) {
      const row = document.createElement("tr");
      const name = document.createElement("th");
      name.scope = "row";
      name.textContent = group.label;
      row.append(name);
      const c = group.counts;
      for (const value of [group.attendanceRate === null ? "—" : percent(group.attendanceRate), c.absent, c.sick, c.excused, c.late]) {
        const cell = document.createElement("td");
        cell.textContent = String(value);
        row.append(cell);
      }
      body.append(row);
    }
    table.hidden = groups.length === 0;
    message.textContent = groups.length ? `С ${from} по ${to}` : "За этот период отметок нет.";
  } catch (error) {
    table.hidden = true;
    message.textContent = `Статистика недоступна: ${error.message}`;
  }
}

// --- wiring --------------------------------------------------------------------------------

$("signin-form").addEventListener("submit", onSignIn);
$("signout").addEventListener("click", signOut);
$("date").addEventListener("change", () => {
  if ($("date").value) startLive();
});
$("school").addEventListener("change", () => chooseSchool($("school").value));
$("controls").addEventListener("submit", (event) => event.preventDefault());
$("stats-form").addEventListener("submit", loadStatistics);
$("login").focus();
