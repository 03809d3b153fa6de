"""What a Russian school teaches: subjects, weekly hours by level, control types,
lesson topics and homework."""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

from ediary_gql.services.school_setup.subjects import DEFAULT_CONTROL_TYPES, ControlTypeDef


@dataclass(frozen=True, slots=True)
class SubjectDef:
    code: str
    name: str
    short_name: str
    # Which kind of teacher teaches it from level 5 (levels 1–4: see PRIMARY_SUBJECTS).
    specialty: str
    # Control types: a lesson's big piece of work, a smaller one, and everyday marks.
    big: str | None
    mid: str | None
    routine: tuple[str, ...]


SUBJECTS: tuple[SubjectDef, ...] = (
    SubjectDef("RUS", "Русский язык", "Рус. яз.", "RUS", "DICTATION", "CHECK", ("ORAL", "HOMEWORK", "CLASSWORK")),
    SubjectDef("LIT", "Литература", "Лит-ра", "RUS", "ESSAY", "CHECK", ("ORAL", "READING", "HOMEWORK")),
    SubjectDef("READ", "Литературное чтение", "Лит. чтение", "PRIMARY", None, "CHECK", ("ORAL", "READING")),
    SubjectDef("ENG", "Английский язык", "Англ. яз.", "ENG", "TEST", "QUIZ", ("ORAL", "HOMEWORK", "CLASSWORK")),
    SubjectDef("MATH", "Математика", "Матем.", "MATH", "TEST", "QUIZ", ("ORAL", "HOMEWORK", "CLASSWORK")),
    SubjectDef("ALG", "Алгебра", "Алгебра", "MATH", "TEST", "QUIZ", ("ORAL", "HOMEWORK", "CLASSWORK")),
    SubjectDef("GEOM", "Геометрия", "Геометрия", "MATH", "TEST", "QUIZ", ("ORAL", "HOMEWORK")),
    SubjectDef("PROB", "Вероятность и статистика", "Вер. и стат.", "MATH", "TEST", "QUIZ", ("ORAL", "HOMEWORK")),
    SubjectDef("INF", "Информатика", "Информ.", "INF", "TEST", "PRACTICAL", ("ORAL", "CLASSWORK")),
    SubjectDef("WORLD", "Окружающий мир", "Окр. мир", "PRIMARY", "TEST", "CHECK", ("ORAL", "HOMEWORK")),
    SubjectDef("HIST", "История", "История", "HIST", "TEST", "CHECK", ("ORAL", "HOMEWORK")),
    SubjectDef("SOC", "Обществознание", "Общество", "HIST", "TEST", "CHECK", ("ORAL", "HOMEWORK")),
    SubjectDef(
        "ODNK", "Основы духовно-нравственной культуры народов России", "ОДНКНР", "HIST", None, "CHECK", ("ORAL",)
    ),
    SubjectDef("GEO", "География", "Геогр.", "GEO", "TEST", "PRACTICAL", ("ORAL", "HOMEWORK")),
    SubjectDef("BIO", "Биология", "Биол.", "BIO", "TEST", "LAB", ("ORAL", "HOMEWORK")),
    SubjectDef("CHEM", "Химия", "Химия", "BIO", "TEST", "LAB", ("ORAL", "HOMEWORK")),
    SubjectDef("PHYS", "Физика", "Физика", "PHYS", "TEST", "LAB", ("ORAL", "HOMEWORK")),
    SubjectDef("ART", "Изобразительное искусство", "ИЗО", "ART", None, "PRACTICAL", ("CLASSWORK",)),
    SubjectDef("MUS", "Музыка", "Музыка", "MUS", None, "CHECK", ("ORAL", "CLASSWORK")),
    SubjectDef("TECH", "Труд (технология)", "Труд", "TECH", None, "PRACTICAL", ("CLASSWORK",)),
    SubjectDef("PE", "Физическая культура", "Физкультура", "PE", None, "STANDARDS", ("CLASSWORK",)),
    SubjectDef("OBZR", "Основы безопасности и защиты Родины", "ОБЗР", "OBZR", "TEST", "PRACTICAL", ("ORAL",)),
)
SUBJECT_BY_CODE: dict[str, SubjectDef] = {s.code: s for s in SUBJECTS}

# In levels 1–4 one teacher (учитель начальных классов) teaches these to the class.
PRIMARY_SUBJECTS = frozenset({"RUS", "READ", "MATH", "WORLD", "ART", "TECH"})

# Weekly hours by level, five-day week (5 × 6 = 30 lessons at most).
_PRIMARY_UPPER = {"RUS": 6, "READ": 5, "ENG": 2, "MATH": 5, "WORLD": 3, "ART": 2, "MUS": 2, "TECH": 2, "PE": 3}
_SENIOR = {
    "RUS": 2, "LIT": 3, "ENG": 3, "ALG": 4, "GEOM": 2, "PROB": 1, "INF": 2, "HIST": 2, "SOC": 2,
    "GEO": 1, "BIO": 1, "PHYS": 3, "CHEM": 1, "OBZR": 1, "PE": 2,
}  # fmt: skip
HOURS: dict[int, dict[str, int]] = {
    1: {"RUS": 7, "READ": 5, "MATH": 5, "WORLD": 3, "ART": 2, "MUS": 2, "TECH": 2, "PE": 4},
    2: _PRIMARY_UPPER,
    3: _PRIMARY_UPPER,
    4: _PRIMARY_UPPER,
    5: {
        "RUS": 5, "LIT": 3, "ENG": 3, "MATH": 5, "INF": 1, "HIST": 2, "ODNK": 1, "GEO": 1,
        "BIO": 1, "ART": 1, "MUS": 1, "TECH": 2, "PE": 3,
    },
    6: {
        "RUS": 6, "LIT": 3, "ENG": 3, "MATH": 5, "INF": 1, "HIST": 2, "SOC": 1, "ODNK": 1,
        "GEO": 1, "BIO": 1, "ART": 1, "MUS": 1, "TECH": 2, "PE": 2,
    },
    7: {
        "RUS": 4, "LIT": 2, "ENG": 3, "ALG": 3, "GEOM": 2, "PROB": 1, "INF": 1, "HIST": 2,
        "SOC": 1, "GEO": 2, "BIO": 1, "PHYS": 2, "ART": 1, "MUS": 1, "TECH": 2, "PE": 2,
    },
    8: {
        "RUS": 3, "LIT": 2, "ENG": 3, "ALG": 3, "GEOM": 2, "PROB": 1, "INF": 1, "HIST": 2,
        "SOC": 1, "GEO": 2, "BIO": 2, "PHYS": 2, "CHEM": 2, "TECH": 1, "OBZR": 1, "PE": 2,
    },
    9: {
        "RUS": 3, "LIT": 3, "ENG": 3, "ALG": 3, "GEOM": 2, "PROB": 1, "INF": 1, "HIST": 2,
        "SOC": 1, "GEO": 2, "BIO": 2, "PHYS": 2, "CHEM": 2, "OBZR": 1, "PE": 2,
    },
    10: _SENIOR,
    11: _SENIOR,
}  # fmt: skip


def specialty(subject: str, level: int) -> str:
    if level <= 4 and subject in PRIMARY_SUBJECTS:
        return "PRIMARY"
    return SUBJECT_BY_CODE[subject].specialty


# Every school's defaults (made with a registered school too), then the demo's own.
CONTROL_TYPES: tuple[ControlTypeDef, ...] = (
    *DEFAULT_CONTROL_TYPES,
    ControlTypeDef("DICTATION", "Диктант", Decimal("2.00")),
    ControlTypeDef("ESSAY", "Сочинение", Decimal("2.00")),
    ControlTypeDef("LAB", "Лабораторная работа", Decimal("1.50")),
    ControlTypeDef("PRACTICAL", "Практическая работа", Decimal("1.50")),
    ControlTypeDef("CLASSWORK", "Работа на уроке", Decimal("1.00")),
    ControlTypeDef("READING", "Чтение наизусть", Decimal("1.00")),
    ControlTypeDef("STANDARDS", "Сдача нормативов", Decimal("1.00")),
)

_BIG_TITLES = {
    "TEST": "Контрольная работа",
    "DICTATION": "Контрольный диктант",
    "ESSAY": "Сочинение",
}

# --- lesson topics -------------------------------------------------------------

_TOPICS: dict[str, tuple[str, ...]] = {
    "RUS": (
        "Морфемика. Состав слова",
        "Корень слова. Однокоренные слова",
        "Приставки и суффиксы",
        "Правописание корней с чередованием е — и",
        "Буквы о — ё после шипящих в корне",
        "Буквы и — ы после ц",
        "Имя существительное как часть речи",
        "Склонение имён существительных",
        "Правописание падежных окончаний существительных",
        "Имя прилагательное как часть речи",
        "Полные и краткие прилагательные",
        "Глагол как часть речи",
        "Не с глаголами",
        "Спряжение глаголов",
        "Правописание -тся и -ться в глаголах",
        "Развитие речи: изложение",
    ),
    "LIT": (
        "Мифы Древней Греции",
        "И. А. Крылов. Басни",
        "А. С. Пушкин. «Сказка о мёртвой царевне»",
        "М. Ю. Лермонтов. «Бородино»",
        "Н. В. Гоголь. «Ночь перед Рождеством»",
        "И. С. Тургенев. «Муму»",
        "Н. А. Некрасов. «Крестьянские дети»",
        "Л. Н. Толстой. «Кавказский пленник»",
        "А. П. Чехов. «Хирургия»",
        "Стихотворения русских поэтов о природе",
        "К. Г. Паустовский. «Тёплый хлеб»",
        "Внеклассное чтение",
    ),
    "READ": (
        "Русские народные сказки",
        "Малые жанры фольклора: пословицы и загадки",
        "Басни И. А. Крылова",
        "Стихи А. С. Пушкина о природе",
        "Рассказы Л. Н. Толстого для детей",
        "Стихи о зиме",
        "Рассказы о животных",
        "Внеклассное чтение",
    ),
    "ENG": (
        "My family",
        "My school day",
        "Daily routine. Present Simple",
        "At home",
        "Food and drinks",
        "Present Continuous",
        "Animals around us",
        "Holidays and festivals",
        "Shopping",
        "Past Simple. Regular verbs",
        "Past Simple. Irregular verbs",
        "Weather and seasons",
    ),
    "MATH": (
        "Обыкновенные дроби",
        "Основное свойство дроби",
        "Сокращение дробей",
        "Приведение дробей к общему знаменателю",
        "Сравнение дробей",
        "Сложение и вычитание дробей с разными знаменателями",
        "Смешанные числа",
        "Сложение и вычитание смешанных чисел",
        "Умножение обыкновенных дробей",
        "Нахождение дроби от числа",
        "Деление обыкновенных дробей",
        "Нахождение числа по его дроби",
        "Решение текстовых задач",
        "Площадь прямоугольника",
        "Объём прямоугольного параллелепипеда",
        "Решение задач на движение",
    ),
    "ALG": (
        "Выражения с переменными",
        "Тождественные преобразования",
        "Линейное уравнение с одной переменной",
        "Решение задач с помощью уравнений",
        "Функция и её график",
        "Линейная функция",
        "Степень с натуральным показателем",
        "Свойства степени",
        "Одночлены",
        "Многочлены",
        "Умножение многочлена на многочлен",
        "Формулы сокращённого умножения",
    ),
    "GEOM": (
        "Начальные геометрические сведения",
        "Отрезки и углы",
        "Смежные и вертикальные углы",
        "Треугольники",
        "Признаки равенства треугольников",
        "Медианы, биссектрисы и высоты",
        "Равнобедренный треугольник",
        "Параллельные прямые",
        "Сумма углов треугольника",
    ),
    "PROB": (
        "Представление данных в таблицах",
        "Диаграммы",
        "Среднее арифметическое",
        "Медиана",
        "Случайная изменчивость",
        "Введение в теорию графов",
    ),
    "INF": (
        "Информация и информационные процессы",
        "Компьютер — универсальное устройство",
        "Файлы и папки",
        "Текстовый редактор",
        "Алгоритмы и исполнители",
        "Линейные алгоритмы",
        "Циклы",
        "Безопасность в интернете",
    ),
    "WORLD": (
        "Природа и человек",
        "Погода и климат",
        "Растения родного края",
        "Животные родного края",
        "Наше здоровье",
        "Город и село",
        "Россия — наша Родина",
    ),
    "HIST": (
        "Древний Египет",
        "Древняя Индия и Китай",
        "Древняя Греция: природа и население",
        "Полисы Греции",
        "Греко-персидские войны",
        "Афинская демократия",
        "Культура Древней Греции",
        "Походы Александра Македонского",
        "Древний Рим: возникновение",
        "Римская республика",
        "Пунические войны",
        "Культура Древнего Рима",
    ),
    "SOC": (
        "Человек — биосоциальное существо",
        "Потребности человека",
        "Деятельность человека",
        "Семья и семейные отношения",
        "Человек в обществе",
        "Права и обязанности граждан",
    ),
    "ODNK": (
        "Культура и нравственность",
        "Семья — хранитель духовных ценностей",
        "Традиции народов России",
        "Праздники народов России",
        "Памятники культуры",
        "Труд и нравственность",
    ),
    "GEO": (
        "Литосфера",
        "Строение земной коры",
        "Рельеф Земли",
        "Горы и равнины",
        "Гидросфера",
        "Мировой океан",
        "Реки и озёра",
        "Атмосфера",
        "Погода и климат",
        "Практическая работа с картой",
    ),
    "BIO": (
        "Клетка — основа жизни",
        "Строение клетки",
        "Ткани",
        "Царство Бактерии",
        "Царство Грибы",
        "Растения: общая характеристика",
        "Водоросли",
        "Мхи и папоротники",
    ),
    "CHEM": (
        "Предмет химии",
        "Чистые вещества и смеси",
        "Атомы и молекулы",
        "Химические элементы",
        "Валентность",
        "Химические реакции",
    ),
    "PHYS": (
        "Строение вещества",
        "Механическое движение",
        "Скорость. Единицы скорости",
        "Инерция",
        "Масса тела",
        "Плотность вещества",
        "Сила. Сила тяжести",
        "Сила упругости. Закон Гука",
        "Вес тела",
        "Давление",
    ),
    "ART": (
        "Декоративно-прикладное искусство",
        "Древние образы в народном искусстве",
        "Хохломская роспись",
        "Гжель",
        "Городецкая роспись",
        "Натюрморт",
        "Пейзаж",
    ),
    "MUS": (
        "Музыка и литература",
        "Вокальная музыка",
        "Русские композиторы",
        "Музыкальный театр: опера",
        "Балет",
        "Народная музыка",
    ),
    "TECH": (
        "Технологии вокруг нас",
        "Материалы и их свойства",
        "Графические изображения",
        "Работа с древесиной",
        "Кулинария: приготовление блюд",
        "Творческий проект",
    ),
    "PE": (
        "Лёгкая атлетика: бег на короткие дистанции",
        "Прыжки в длину с места",
        "Гимнастика: акробатика",
        "Упражнения на перекладине",
        "Баскетбол: ведение мяча",
        "Волейбол: передачи мяча",
        "Лыжная подготовка: техника хода",
        "Подвижные игры",
    ),
    "OBZR": (
        "Безопасность в быту",
        "Пожарная безопасность",
        "Безопасность на дорогах",
        "Первая помощь",
        "Чрезвычайные ситуации",
        "Защита Отечества",
    ),
}


def lesson_topic(subject: str, ordinal: int, hours: int) -> tuple[str, bool]:
    """The topic of the `ordinal`-th lesson (from 0) of a subject in a class; and whether it is a test.

    Subjects taught three or more hours a week spend two lessons on a topic;
    every eighth lesson of a subject with a big control type is that test.
    """
    bank = _TOPICS[subject]
    sub = SUBJECT_BY_CODE[subject]
    per_topic = 2 if hours >= 3 else 1
    if sub.big is not None and ordinal % 8 == 7:
        previous = bank[((ordinal - 1) // per_topic) % len(bank)]
        return f"{_BIG_TITLES[sub.big]} по теме «{previous}»", True
    index = ordinal // per_topic
    topic = bank[index % len(bank)]
    if index >= len(bank):
        topic = f"Повторение: {topic}"
    return topic, False


# --- homework ------------------------------------------------------------------

_HOMEWORK: dict[str, tuple[str, ...]] = {
    "RUS": ("§ {par}, упр. {ex} и {ex2}", "Выучить правило § {par}, упр. {ex}", "Упр. {ex} (письменно)"),
    "LIT": (
        "Прочитать текст на с. {page}–{page2}, ответить на вопросы",
        "Выучить наизусть отрывок (с. {page})",
        "Письменный ответ на вопрос 3 на с. {page}",
    ),
    "READ": ("Прочитать с. {page}–{page2}, пересказ", "Выразительное чтение с. {page}"),
    "ENG": ("Student's Book p. {page}, ex. {small}; выучить слова", "Workbook p. {page}, ex. {small}–{small2}"),
    "MATH": ("№ {ex}, {ex2}, {ex3}", "§ {par}, № {ex} и {ex2}", "Повторить правила § {par}, № {ex}"),
    "ALG": ("§ {par}, № {ex}, {ex2}", "№ {ex} (а, б), {ex2}"),
    "GEOM": ("п. {par}, задачи {small}, {small2}", "Выучить теорему (п. {par}), задача {ex}"),
    "PROB": ("§ {par}, № {small}–{small2}",),
    "INF": ("§ {par}, вопросы 1–4", "Подготовить сообщение по § {par}"),
    "WORLD": ("Учебник с. {page}–{page2}, рабочая тетрадь с. {small}",),
    "HIST": ("§ {par}, вопросы после параграфа", "§ {par}, заполнить таблицу", "§ {par}, пересказ"),
    "SOC": ("§ {par}, вопросы 1–5", "§ {par}, задание «В классе и дома»"),
    "ODNK": ("Прочитать с. {page}–{page2}",),
    "GEO": ("§ {par}, контурная карта", "§ {par}, вопросы в конце параграфа"),
    "BIO": ("§ {par}, вопросы 1–4", "§ {par}, зарисовать схему в тетради"),
    "CHEM": ("§ {par}, упр. {small}–{small2}",),
    "PHYS": ("§ {par}, упр. {small} (1, 2)", "§ {par}, выучить формулы"),
    "OBZR": ("§ {par}, вопросы",),
}

_MINUTES = {"RUS": 30, "MATH": 30, "ALG": 30, "GEOM": 25, "ENG": 25, "LIT": 30, "PHYS": 25}


def homework_for(subject: str, ordinal: int, rng: random.Random) -> tuple[str, int] | None:
    """Homework text and expected minutes for a lesson; None where none is set (art, music, PE…)."""
    templates = _HOMEWORK.get(subject)
    if not templates:
        return None
    template = templates[ordinal % len(templates)]
    shift = sum(map(ord, subject)) % 40  # textbooks differ: so do the numbers
    page = 30 + shift + ordinal * 3
    ex = 80 + shift * 3 + ordinal * 4
    text = template.format(
        par=3 + shift % 9 + ordinal // 2,
        ex=ex,
        ex2=ex + 2,
        ex3=ex + 5,
        page=page,
        page2=page + rng.randint(2, 6),
        small=1 + ordinal % 9,
        small2=2 + ordinal % 9,
    )
    minutes = _MINUTES.get(subject, 20) + rng.choice((-5, 0, 0, 5, 10))
    return text, max(minutes, 10)
